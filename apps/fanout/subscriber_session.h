#pragma once

// One subscriber's stream on this proxy instance: pushes the records of the
// partitions the proxy serves from the subscriber's acknowledged position,
// from the shared buffer or, when it fell out of it, from its own reader;
// keeps what was pushed and not acknowledged, pushes it again after the
// deadline, and commits the acknowledged prefix to the subscriber's group.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "deliveries_message.h"
#include "flow_limiter.h"
#include "record_filter.h"
#include "topic_feed.h"
#include "whippet/record_reader.h"
#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {

enum class StartPosition { kEarliest, kLatest };

struct SessionSettings {
  std::string id;
  std::string topic;
  std::string subscriber;
  std::string proxy_id;
  RecordFilter filter;
  std::size_t max_in_flight = 1000;
  std::chrono::milliseconds ack_deadline{30000};
  std::uint64_t records_per_second = 0;
  std::uint64_t bytes_per_second = 0;
  StartPosition start = StartPosition::kEarliest;
};

struct SessionEnvironment {
  ClusterOptions cluster;
  std::string subscriber_group;  // where positions are committed
  std::chrono::milliseconds commit_interval{1000};
  std::size_t private_prefetch_kilobytes = 8192;
};

enum class SessionEnd {
  kStreamBroken,  // the client went away
  kStopped,       // stop(): replaced, or the proxy shuts down
  kCutOff,        // too slow, under the cut-off policy
};

struct CursorSnapshot {
  int32_t partition = 0;
  int64_t position = 0;
  int64_t acknowledged = 0;
  std::optional<int64_t> committed;
  bool private_reader = false;
  std::size_t in_flight = 0;
  std::optional<int64_t> lag;             // high watermark minus acknowledged
  std::optional<int64_t> buffered_ahead;  // shared records not yet pushed
};

struct SessionSnapshot {
  std::string id;
  std::string topic;
  std::string subscriber;
  std::string filter;
  std::size_t max_in_flight = 0;
  std::size_t in_flight = 0;
  std::vector<CursorSnapshot> partitions;
  std::uint64_t pushed = 0;
  std::uint64_t redelivered = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t filtered = 0;
  std::uint64_t evictions = 0;
  std::uint64_t commit_failures = 0;
  std::uint64_t private_fetched_bytes = 0;
};

// Writes one SubscribeEvent, already serialised (deliveries refer to the
// records' shared bytes); false once the stream broke.
using EventWriter = std::function<bool(const grpc::ByteBuffer&)>;

class SubscriberSession final : public FeedSubscriber {
 public:
  SubscriberSession(SessionSettings settings, const SessionEnvironment& environment,
                    std::shared_ptr<TopicFeed> feed);
  ~SubscriberSession() override;

  // Pushes until the stream breaks, stop() or a cut-off; then commits what
  // was acknowledged and leaves the feed. Runs on the stream's thread.
  // `cancelled` says whether the client went away; it is asked at least
  // every commit interval, so an idle stream whose client left ends too.
  SessionEnd run(const EventWriter& write, const std::function<bool()>& cancelled);
  // Thread-safe; run() returns soon after (a write in progress completes or
  // fails first).
  void stop(const std::string& reason);
  std::string end_reason() const;

  struct AcknowledgeResult {
    std::uint32_t accepted = 0;
    std::uint32_t ignored = 0;
  };
  // Inclusive ranges of offsets of `partition`.
  AcknowledgeResult acknowledge(int32_t partition,
                                std::span<const std::pair<int64_t, int64_t>> ranges);

  SessionSnapshot snapshot();
  const SessionSettings& settings() const { return settings_; }

  // FeedSubscriber
  SessionCursors& cursors() override { return state_; }
  void wake() override;
  void commit_now(const std::vector<PartitionOffset>& positions) override;

 private:
  // When some records of `partition` may have passed their deadline.
  struct DeadlineCheck {
    Clock::time_point at;
    int32_t partition;
  };
  // What one message carries. Its deliveries are added to the session's
  // DeliveriesMessage as the records are taken, under the feed's lock: the
  // message refers to each run of shared bytes once, and the records move
  // straight into flight without a reference of the batch's own to count.
  struct Batch {
    std::size_t records = 0;
    std::vector<int32_t> partitions;  // that got new records in flight
    std::optional<v1::SubscribeEvent> assignment;
    std::size_t bytes = 0;
    std::size_t first_pushes = 0;
    bool limited = false;  // stopped by the flow limits, not by lack of records

    // Empty again; the vector keeps its capacity.
    void clear() {
      records = 0;
      partitions.clear();
      assignment.reset();
      bytes = 0;
      first_pushes = 0;
      limited = false;
    }
  };

  SessionEnd push_until_done(const EventWriter& write, const std::function<bool()>& cancelled);
  // Leaves the feed and commits what was acknowledged; after this the feed
  // no longer touches the session.
  void leave_feed();
  void position_new_partitions();
  void sync_private_reader();
  void fill(Batch& batch, Clock::time_point now);
  void redeliver_expired(Batch& batch, Clock::time_point now);
  void take_private_backlog(Batch& batch, Clock::time_point now);
  void take_shared(Batch& batch, Clock::time_point now);
  bool offer(Cursor& cursor, SharedRecord record, Batch& batch, Clock::time_point now);
  bool room(const Batch& batch) const;
  // How far past its oldest unacknowledged record a cursor may push.
  int64_t window_limit() const {
    return static_cast<int64_t>(settings_.max_in_flight) * 10 + 10000;
  }
  bool has_private_cursors() const;
  void wait_for_work(std::unique_lock<std::mutex>& lock, Clock::time_point next_commit,
                     bool limited);
  void add_delivery(Batch& batch, const FanoutRecord& record, std::uint32_t attempt);
  void commit_acknowledged();
  std::vector<PartitionOffset> acknowledged_positions(bool changed_only);
  v1::SubscribeEvent started_event();

  SessionSettings settings_;
  std::chrono::milliseconds commit_interval_;
  std::shared_ptr<TopicFeed> feed_;
  RecordReader private_reader_;  // also reads and commits the subscriber group's offsets
  FlowLimiter limiter_;

  // Guarded by feed_->mutex().
  SessionCursors state_;
  std::deque<DeadlineCheck> deadlines_;
  std::optional<std::string> stop_reason_;
  bool woken_ = false;
  std::condition_variable wakeup_;

  // The session thread's own.
  std::deque<SharedRecord> private_backlog_;
  DeliveriesMessage deliveries_;  // the batch's; reused: its vectors keep their capacity
  DeliveryBlockWriter private_blocks_;  // where the private reader's records are encoded
  std::size_t next_shared_partition_ = 0;
  std::size_t refused_bytes_ = 0;  // of the record the flow limits held back last

  // Held from reading positions to the end of their commit (see
  // commit_acknowledged); taken before the feed's mutex, never after it.
  std::mutex commit_mutex_;

  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> redelivered_{0};
  std::atomic<std::uint64_t> acknowledged_{0};
  std::atomic<std::uint64_t> filtered_{0};
  std::atomic<std::uint64_t> commit_failures_{0};
};

}  // namespace whippet::fanout
