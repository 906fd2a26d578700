#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "consumer/offset_tracker.h"
#include "whippet/record.h"
#include "whippet/runtime.h"

namespace whippet::consumer {

// How much waits for the workers (or is parked) in one partition: records,
// and their payload bytes (key, value, headers), both bounded.
struct QueueLoad {
  std::size_t records = 0;
  std::size_t bytes = 0;

  void add(std::size_t record_bytes) { ++records, bytes += record_bytes; }
};

// The limits of a QueueLoad. The byte limit binds only from `min_records`
// on, so that parallel handlers all get work whatever the record size.
struct QueueBound {
  std::size_t records = 1;
  std::size_t bytes = 1;
  std::size_t min_records = 0;

  bool reached_by(const QueueLoad& load) const {
    return load.records >= records || (load.bytes >= bytes && load.records >= min_records);
  }
  // Half of each limit: where a paused partition resumes.
  QueueBound half() const {
    return {std::max<std::size_t>(1, records / 2), std::max<std::size_t>(1, bytes / 2),
            min_records / 2};
  }
};

// One assignment of one partition to this consumer: shared by the poll
// thread, which dispatches and commits, and the workers, which handle and
// complete. A new assignment of the same partition gets a new object with a
// new epoch, so completions from a revoked assignment land in a fenced
// object and are never committed.
class PartitionState {
 public:
  using Clock = std::chrono::steady_clock;

  PartitionState(TopicPartition topic_partition, uint64_t epoch, int64_t start_position);

  const TopicPartition& topic_partition() const { return topic_partition_; }
  uint64_t epoch() const { return epoch_; }

  // Poll thread: these records (in offset order) go to the dispatch strategy.
  void dispatched(const std::vector<Record>& records);

  // Worker: about to run the handler. False once the partition is being
  // revoked: the record must then be dropped unhandled.
  bool begin(int64_t offset);
  // The same for a batch, all or none.
  bool begin(std::span<const Record> records);
  // Worker: finished. Returns true when the poll thread should be woken
  // (a paused partition fell below its resume mark, or a drain finished).
  bool complete(int64_t offset);
  // The same for a batch of records begun together (in offset order).
  bool complete(std::span<const Record> records);
  // Worker: complete(finished), then begin(next), under one lock (a lane
  // running its partition's records one after another).
  struct Handover {
    bool wake = false;     // as complete() returns
    bool started = false;  // as begin() returns
  };
  Handover complete_then_begin(int64_t finished, int64_t next);
  // Worker: the handler of this record was interrupted (revoke, shutdown)
  // before it reached an outcome. It stays pending: never committed, so the
  // next owner handles it again.
  void abandon(int64_t offset);
  void abandon(std::span<const Record> records);
  // Poll thread: records wait for the committable position to move (the gap
  // window); the next completion that moves it wakes the poll thread.
  void wake_when_position_advances() { position_wake_wanted_.store(true, std::memory_order_relaxed); }

  // Any thread: true once the partition is being revoked or the consumer
  // is closing. Retry waits end when this turns true.
  bool stopping() const;

  // Offsets a previous owner already handled above the committed position
  // (read from the commit metadata). Records at these offsets are tracked
  // and completed without running the handler.
  void restore_handled(std::vector<int64_t> handled);
  bool handled_before(int64_t offset) const;
  // Records dispatched and not yet completed (queued or in flight), and the
  // committable position, under one lock.
  struct Admission {
    QueueLoad pending;
    int64_t position = -1;
  };
  Admission admission() const;
  // The committable position and the handled offsets above it (including
  // restored ones not fetched yet), consistently, for the commit metadata.
  struct Progress {
    int64_t position = -1;
    std::vector<int64_t> handled_above;
  };
  Progress progress() const;

  // Revocation, on the poll thread: stop starting records, wait for the
  // running ones (true if they all finished in time), then fence.
  void stop_starting();
  bool wait_until_idle(Clock::time_point deadline);
  void fence();

  // Back-pressure, poll thread only except where noted.
  // Wake the poll thread once the pending load no longer reaches `resume_at`.
  void mark_paused(QueueBound resume_at);
  bool paused() const { return paused_; }
  bool resume_wanted() const;  // any thread
  void mark_resumed();

  // Poll thread only: records fetched while paused, dispatched on resume;
  // the next offset expected; paused by an operator (control verb), which
  // back-pressure never resumes.
  std::vector<Record> parked;
  std::size_t parked_bytes = 0;  // payload bytes of `parked`
  int64_t next_offset = -1;
  bool held_by_operator = false;
  bool paused_in_client = false;  // rd_kafka_pause_partitions in effect
  bool is_retry_topic = false;    // records wait for their retry time
  bool restored_gaps = false;     // restore_handled() got offsets
  std::optional<std::chrono::system_clock::time_point> delayed_until;

  // Commit bookkeeping: written by the poll thread, read by snapshots.
  std::optional<int64_t> last_committed() const;
  void set_committed(int64_t position, std::string metadata = {});
  bool committed_metadata_is(const std::string& metadata) const;

  // The end of the partition as the poll thread last saw it.
  void set_high_watermark(int64_t high_watermark) { high_watermark_.store(high_watermark); }

  // Any thread.
  PartitionSnapshot snapshot(Clock::time_point now, int64_t now_epoch_ms) const;

 private:
  // Under mutex_.
  bool below_resume_mark() const;
  bool begin_locked(int64_t offset, Clock::time_point now);  // as begin()
  bool complete_locked(int64_t offset);                       // as complete()
  bool wake_after_completion(int64_t position_before);
  void erase_running(std::span<const Record> records);

  const TopicPartition topic_partition_;
  const uint64_t epoch_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  OffsetTracker tracker_;
  // Offset and start of the records whose handlers run now (up to the
  // parallelism, or a whole batch): a flat list, so that starting a record
  // allocates nothing once it has grown.
  std::vector<std::pair<int64_t, Clock::time_point>> running_;
  bool starting_allowed_ = true;
  bool fenced_ = false;
  std::optional<int64_t> last_committed_;
  std::string last_committed_metadata_;
  std::vector<int64_t> restored_handled_;  // sorted

  // Written by the poll thread, read by workers deciding whether to wake it.
  std::atomic<bool> paused_{false};
  std::atomic<bool> resume_signalled_{false};
  std::atomic<bool> position_wake_wanted_{false};  // one wake-up per pause, not one per completion
  std::atomic<std::size_t> resume_at_records_{1};
  std::atomic<std::size_t> resume_at_bytes_{1};
  std::atomic<std::size_t> resume_at_min_records_{0};
  std::atomic<Clock::rep> paused_since_{0};
  std::atomic<int64_t> high_watermark_{-1};
};

}  // namespace whippet::consumer
