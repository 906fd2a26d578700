#include "consumer/partition_ordered_strategy.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace whippet::consumer {
namespace {
// Records a task handles before yielding its thread, so that partitions
// sharing the pool take turns.
constexpr std::size_t kRecordsPerTurn = 512;
}  // namespace

void PartitionOrderedStrategy::dispatch(const std::shared_ptr<PartitionState>& partition,
                                        std::vector<Record> records) {
  auto& lane = lanes_[partition.get()];
  if (!lane) {
    lane = std::make_shared<Lane>();
    lane->partition = partition;
  }
  bool start_task = false;
  {
    std::lock_guard lock(lane->mutex);
    for (auto& record : records) lane->queue.push_back(std::move(record));
    if (!lane->scheduled) {
      lane->scheduled = true;
      start_task = true;
    }
  }
  if (start_task) schedule(lane);
}

void PartitionOrderedStrategy::remove(const PartitionState& partition) {
  auto found = lanes_.find(&partition);
  if (found == lanes_.end()) return;
  {
    std::lock_guard lock(found->second->mutex);
    found->second->queue.clear();
  }
  lanes_.erase(found);
}

void PartitionOrderedStrategy::schedule(std::shared_ptr<Lane> lane) {
  context_.workers->submit([this, lane = std::move(lane)] { drain_some(lane); });
}

void PartitionOrderedStrategy::drain_some(const std::shared_ptr<Lane>& lane) {
  std::vector<Record> turn;
  turn.reserve(kRecordsPerTurn);
  {
    std::lock_guard lock(lane->mutex);
    const auto count = std::min(kRecordsPerTurn, lane->queue.size());
    std::move(lane->queue.begin(), lane->queue.begin() + static_cast<std::ptrdiff_t>(count),
              std::back_inserter(turn));
    lane->queue.erase(lane->queue.begin(), lane->queue.begin() + static_cast<std::ptrdiff_t>(count));
  }
  for (const auto& record : turn) run_record(context_, *lane->partition, record);
  {
    std::lock_guard lock(lane->mutex);
    if (lane->queue.empty()) {
      lane->scheduled = false;
      return;
    }
  }
  schedule(lane);  // more arrived: come back after other lanes had their turn
}

}  // namespace whippet::consumer
