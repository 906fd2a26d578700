#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "consumer/dispatch_strategy.h"

namespace whippet::consumer {

// One record at a time per partition, in offset order; partitions run in
// parallel up to the worker count.
class PartitionOrderedStrategy final : public DispatchStrategy {
 public:
  explicit PartitionOrderedStrategy(DispatchContext context) : context_(std::move(context)) {}

  void dispatch(const std::shared_ptr<PartitionState>& partition,
                std::vector<Record> records) override;
  void remove(const PartitionState& partition) override;

 private:
  // A partition's queue and whether a worker task currently owns it. The
  // queue keeps the batches as the poll thread handed them over, so that a
  // record is moved once on its way to the handler, not once per hop.
  struct Lane {
    std::shared_ptr<PartitionState> partition;
    std::mutex mutex;
    std::deque<std::vector<Record>> batches;
    std::size_t handled_in_front = 0;  // records of batches.front() already handled
    bool scheduled = false;
    bool removed = false;  // revoked: a running turn puts nothing back
  };

  void schedule(std::shared_ptr<Lane> lane);
  void drain_some(const std::shared_ptr<Lane>& lane);
  // Moves the lane's front batch out, with how much of it was handled
  // already; false (and the lane unscheduled) when nothing is left.
  static bool take_front(Lane& lane, std::vector<Record>& batch, std::size_t& first);

  DispatchContext context_;
  std::map<const PartitionState*, std::shared_ptr<Lane>> lanes_;  // poll thread only
};

}  // namespace whippet::consumer
