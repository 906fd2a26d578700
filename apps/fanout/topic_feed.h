#pragma once

// One topic read once for every subscriber of this proxy instance. The
// proxy group ("<prefix>:<topic>") splits the topic's partitions between
// the instances; each partition read here goes into a bounded shared
// buffer. The feed reads a partition only while some subscriber needs it,
// pauses it while the buffer is full, and moves a subscriber that holds the
// buffer back while another waits for new records out of the buffer (to its
// private reader, or cut off): a slow subscriber never slows the others.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "partition_buffer.h"
#include "subscriber_cursor.h"
#include "whippet/record_reader.h"

namespace whippet::fanout {

enum class SlowSubscriberPolicy {
  kReadPrivately,  // serve it from its own reader until it catches up
  kCutOff,         // end its stream with ABORTED
};

// A session as its feed sees it.
class FeedSubscriber {
 public:
  virtual ~FeedSubscriber() = default;
  // Guarded by the feed's mutex.
  virtual SessionCursors& cursors() = 0;
  // Records arrived, a cursor moved or the assignment changed. Called with
  // the feed's mutex held: must not block.
  virtual void wake() = 0;
  // Commits the subscriber's positions of partitions being revoked, before
  // another proxy instance reads them. Called without the feed's mutex.
  virtual void commit_now(const std::vector<PartitionOffset>& positions) = 0;
};

struct FeedOptions {
  ClusterOptions cluster;
  std::string topic;
  std::string group_id;  // the proxy group for this topic
  BufferLimits buffer;
  SlowSubscriberPolicy slow_subscribers = SlowSubscriberPolicy::kReadPrivately;
  std::chrono::milliseconds session_timeout{10000};
  std::size_t prefetch_kilobytes = 65536;
};

struct PartitionFeedSnapshot {
  int32_t partition = 0;
  bool reading = false;
  int64_t buffer_start = 0;
  int64_t buffer_end = 0;
  std::size_t buffered_records = 0;
  std::size_t buffered_bytes = 0;
  std::optional<int64_t> high_watermark;
};

class TopicFeed final : private PartitionListener {
 public:
  explicit TopicFeed(FeedOptions options);
  ~TopicFeed() override;
  TopicFeed(const TopicFeed&) = delete;
  TopicFeed& operator=(const TopicFeed&) = delete;

  const std::string& topic() const { return options_.topic; }
  std::mutex& mutex() { return mutex_; }

  // Both under mutex(). add() marks every assigned partition unpositioned
  // for the subscriber; remove() waits (releasing the lock) while a revoke
  // is committing for it, so that it is never used after it left.
  void add(FeedSubscriber& subscriber);
  void remove(FeedSubscriber& subscriber, std::unique_lock<std::mutex>& lock);
  std::vector<int32_t> assignment() const;

  // Under mutex(): whether a cursor of `partition` about to read `offset`
  // can read it from the shared buffer. When nobody else reads the
  // partition from the buffer, the feed moves there. A false answer means:
  // read it privately.
  bool try_share(int32_t partition, int64_t offset);
  // Under mutex(): up to max_records records of `partition` from `offset`.
  int64_t read(int32_t partition, int64_t offset, std::size_t max_records,
               std::size_t max_bytes, std::vector<SharedRecord>& out);
  // Under mutex(): the next offset the feed will append (for lag).
  std::optional<int64_t> buffer_end(int32_t partition) const;

  std::optional<int64_t> high_watermark(int32_t partition);
  std::uint64_t fetched_bytes() const { return reader_.fetched_bytes(); }
  std::uint64_t records_read() const { return records_read_.load(std::memory_order_relaxed); }
  std::vector<PartitionFeedSnapshot> snapshot();

 private:
  struct PartitionFeed {
    explicit PartitionFeed(BufferLimits limits) : buffer(limits) {}
    PartitionBuffer buffer;
    bool positioned = false;     // some subscriber said where to read
    std::uint64_t resets = 0;    // buffer resets asked for
    std::uint64_t applied = 0;   // resets the reader has seeked for
    bool paused = true;
    // Since when the full buffer holds a waiting subscriber back.
    std::optional<std::chrono::steady_clock::time_point> held_back_since;
  };
  struct Actions {
    std::vector<PartitionOffset> seeks;
    std::vector<std::pair<int32_t, std::uint64_t>> applied;
    std::vector<TopicPartition> pause;
    std::vector<TopicPartition> resume;
  };

  void on_assigned(const std::vector<TopicPartition>& partitions) override;
  void on_revoked(const std::vector<TopicPartition>& partitions) override;
  void run();
  void step();
  Actions plan();
  void plan_partition(int32_t partition, PartitionFeed& feed, Actions& actions);
  void evict_slow(int32_t partition, PartitionFeed& feed);
  void append(std::vector<Record> polled);
  std::vector<Cursor*> shared_cursors(int32_t partition);
  void wake_all();

  FeedOptions options_;
  mutable std::mutex mutex_;
  std::map<int32_t, PartitionFeed> partitions_;
  std::set<FeedSubscriber*> subscribers_;
  std::set<FeedSubscriber*> committing_;  // by on_revoked, outside the lock
  std::condition_variable commits_done_;
  std::atomic<bool> stopping_{false};
  std::condition_variable stop_requested_;
  std::atomic<std::uint64_t> records_read_{0};
  // The feed thread's own: where each partition's records are encoded.
  std::map<int32_t, DeliveryBlockWriter> block_writers_;
  RecordReader reader_;
  std::thread thread_;
};

}  // namespace whippet::fanout
