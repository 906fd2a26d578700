#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "consumer/dispatch_strategy.h"

namespace whippet::consumer {

// Records of one key in offset order, different keys at once: each key with
// work is a lane, and the worker pool (sized to the parallelism) runs one
// task per lane. Records without a key need no order and run on their own.
class KeyOrderedStrategy final : public DispatchStrategy {
 public:
  explicit KeyOrderedStrategy(DispatchContext context) : context_(std::move(context)) {}

  void dispatch(const std::shared_ptr<PartitionState>& partition,
                std::vector<Record> records) override;
  void remove(const PartitionState& partition) override;

 private:
  // The keys of one partition that have records queued or running. A key
  // leaves the map when its last record finishes, so memory follows the
  // keys in flight, not every key ever seen.
  struct PartitionLanes {
    std::shared_ptr<PartitionState> partition;
    std::mutex mutex;
    std::unordered_map<std::string, std::deque<Record>> waiting_by_key;  // key present: running
    bool removed = false;
  };

  void run_key(const std::shared_ptr<PartitionLanes>& lanes, Record record);

  DispatchContext context_;
  std::map<const PartitionState*, std::shared_ptr<PartitionLanes>> partitions_;  // poll thread only
};

}  // namespace whippet::consumer
