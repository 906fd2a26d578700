#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "consumer/consumer_counters.h"
#include "consumer/partition_state.h"
#include "consumer/worker_pool.h"
#include "whippet/consumer.h"

namespace whippet::consumer {

// What every strategy needs from the engine that owns it.
struct DispatchContext {
  WorkerPool* workers = nullptr;
  Handler handler;                        // the user's handler, already decorated
  std::function<void()> wake_poll_thread; // thread-safe
  ConsumerCounters* counters = nullptr;
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
};

std::unique_ptr<DispatchStrategy> make_dispatch_strategy(const DispatchMode& mode,
                                                         DispatchContext context);

// Runs the handler for one record behind an exception barrier and reports
// the completion; shared by all strategies.
void run_record(const DispatchContext& context, PartitionState& partition, const Record& record);

}  // namespace whippet::consumer
