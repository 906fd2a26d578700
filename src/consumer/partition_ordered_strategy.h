#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>

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
  // A partition's queue and whether a worker task currently owns it.
  struct Lane {
    std::shared_ptr<PartitionState> partition;
    std::mutex mutex;
    std::deque<Record> queue;
    bool scheduled = false;
  };

  void schedule(std::shared_ptr<Lane> lane);
  void drain_some(const std::shared_ptr<Lane>& lane);

  DispatchContext context_;
  std::map<const PartitionState*, std::shared_ptr<Lane>> lanes_;  // poll thread only
};

}  // namespace whippet::consumer
