#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <memory>
#include <vector>

#include "consumer/consumer_counters.h"
#include "consumer/partition_state.h"
#include "consumer/record_recycler.h"
#include "consumer/worker_pool.h"
#include "retry/failure_handler.h"
#include "whippet/consumer.h"

namespace whippet::consumer {

// What every strategy needs from the engine that owns it.
struct DispatchContext {
  WorkerPool* workers = nullptr;
  Handler handler;                        // the user's handler, already decorated
  BatchHandler batch_handler;             // for the batch strategy instead
  retry::FailureHandler* failures = nullptr;  // what happens when a handler throws
  std::function<void()> wake_poll_thread; // thread-safe
  ConsumerCounters* counters = nullptr;
  RecordRecycler* recycler = nullptr;     // where handled records go back (required)
};

// How records of assigned partitions reach the handler. The poll thread
// calls dispatch() and remove(); the strategy runs handlers on the worker
// pool and reports each record through PartitionState::begin/complete.
class DispatchStrategy {
 public:
  virtual ~DispatchStrategy() = default;

  // Hands over records of one partition, in offset order, that the caller
  // has already marked dispatched.
  virtual void dispatch(const std::shared_ptr<PartitionState>& partition,
                        std::vector<Record> records) = 0;

  // The partition is being revoked: drop its records that have not started.
  virtual void remove(const PartitionState& partition) = 0;

  // For strategies that wait (a batch filling up): called by the poll thread
  // every round, and when the poll should return at the latest.
  virtual void on_tick(std::chrono::steady_clock::time_point /*now*/) {}
  virtual std::optional<std::chrono::steady_clock::time_point> next_deadline() const {
    return std::nullopt;
  }
};

std::unique_ptr<DispatchStrategy> make_dispatch_strategy(const DispatchMode& mode,
                                                         DispatchContext context);

// Runs the handler for one record behind an exception barrier, hands a
// failure to the retry policy, and reports the completion; shared by all
// strategies.
void run_record(const DispatchContext& context, PartitionState& partition, const Record& record);

// run_record for records of one partition run one after another on this
// thread: each completion and the next record's start share one lock of
// the partition. The last record handled completes in finish() (or on
// destruction); nothing waits in between.
class SequentialRun {
 public:
  SequentialRun(const DispatchContext& context, PartitionState& partition)
      : context_(context), partition_(partition) {}
  ~SequentialRun() { finish(); }
  SequentialRun(const SequentialRun&) = delete;
  SequentialRun& operator=(const SequentialRun&) = delete;

  void run(const Record& record);
  void finish() noexcept;

 private:
  const DispatchContext& context_;
  PartitionState& partition_;
  int64_t finished_ = -1;  // handled, not yet completed
};
// The same for a batch of one partition's records, in offset order.
void run_batch(const DispatchContext& context, PartitionState& partition,
               std::span<const Record> records);

}  // namespace whippet::consumer
