#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

#include "consumer/offset_tracker.h"
#include "whippet/record.h"

namespace whippet::consumer {

// One assignment of one partition to this consumer: shared by the poll
// thread, which dispatches and commits, and the workers, which handle and
// complete. A new assignment of the same partition gets a new object with a
// new epoch, so completions from a revoked assignment land in a fenced
// object and are never committed.
class PartitionState {
 public:
  PartitionState(TopicPartition topic_partition, uint64_t epoch, int64_t start_position);

  const TopicPartition& topic_partition() const { return topic_partition_; }
  uint64_t epoch() const { return epoch_; }

  // Poll thread: the record at `offset` was handed to the dispatch strategy.
  void dispatched(int64_t offset);

  // Worker: about to run the handler. False once the partition is being
  // revoked: the record must then be dropped unhandled.
  bool begin(int64_t offset);
  // Worker: finished. Returns true when the poll thread should be woken
  // (a paused partition fell below its resume mark, or a drain finished).
  bool complete(int64_t offset);

  // Records dispatched and not yet completed (queued or in flight).
  std::size_t pending() const;
  int64_t committable_position() const;

  // Revocation, on the poll thread: stop starting records, wait for the
  // running ones (true if they all finished in time), then fence.
  void stop_starting();
  bool wait_until_idle(std::chrono::steady_clock::time_point deadline);
  void fence();

  // Back-pressure, poll thread only except where noted.
  void mark_paused(int64_t resume_offset, std::size_t resume_below);
  bool paused() const { return paused_; }
  int64_t resume_offset() const { return resume_offset_; }
  bool resume_wanted() const;  // any thread
  void mark_resumed();

  // The last position committed for this assignment (poll thread only).
  std::optional<int64_t> last_committed;

 private:
  const TopicPartition topic_partition_;
  const uint64_t epoch_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  OffsetTracker tracker_;
  std::size_t running_ = 0;
  bool starting_allowed_ = true;
  bool fenced_ = false;

  // Written by the poll thread, read by workers deciding whether to wake it.
  std::atomic<bool> paused_{false};
  std::atomic<std::size_t> resume_below_{0};
  int64_t resume_offset_ = -1;
};

}  // namespace whippet::consumer
