#include "consumer/partition_ordered_strategy.h"

#include <algorithm>
#include <utility>
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
    lane->batches.push_back(std::move(records));
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
    found->second->batches.clear();
    found->second->handled_in_front = 0;
    found->second->removed = true;
  }
  lanes_.erase(found);
}

void PartitionOrderedStrategy::schedule(std::shared_ptr<Lane> lane) {
  context_.workers->submit([this, lane = std::move(lane)] { drain_some(lane); });
}

bool PartitionOrderedStrategy::take_front(Lane& lane, std::vector<Record>& batch,
                                          std::size_t& first) {
  std::lock_guard lock(lane.mutex);
  if (lane.removed || lane.batches.empty()) {
    lane.scheduled = false;
    return false;
  }
  batch = std::move(lane.batches.front());
  lane.batches.pop_front();
  first = std::exchange(lane.handled_in_front, 0);
  return true;
}

void PartitionOrderedStrategy::drain_some(const std::shared_ptr<Lane>& lane) {
  // The task owns the batch it works on, so that a revoke clearing the
  // queue meanwhile cannot pull records from under it.
  std::vector<Record> batch;
  std::size_t first = 0;
  std::size_t handled = 0;
  // The last record handled is completed before the lane may pass to
  // another worker (take_front unschedules it when empty, schedule below),
  // so that a partition never shows two records running.
  SequentialRun run(context_, *lane->partition);
  while (handled < kRecordsPerTurn) {
    run.finish();
    if (!take_front(*lane, batch, first)) return;
    const auto end = std::min(batch.size(), first + (kRecordsPerTurn - handled));
    for (auto i = first; i < end; ++i) {
      run.run(batch[i]);
      // Its bytes leave the partition's pending count as the next record
      // starts, which admits more in their place: a large record is freed
      // now, not with its batch; small ones go back to the poll thread
      // together, below, up to the recycler's budget (the rest are freed
      // with the batch).
      if (!RecordRecycler::worth_keeping(batch[i])) batch[i] = Record{};
    }
    context_.recycler->give_back(std::span(batch).subspan(first, end - first));
    handled += end - first;
    if (end < batch.size()) {
      std::lock_guard lock(lane->mutex);
      if (lane->removed) {
        lane->scheduled = false;
        return;
      }
      lane->batches.push_front(std::move(batch));
      lane->handled_in_front = end;
    }
  }
  {
    std::lock_guard lock(lane->mutex);
    if (lane->removed || lane->batches.empty()) {
      lane->scheduled = false;
      return;
    }
  }
  run.finish();
  schedule(lane);  // more left: come back after other lanes had their turn
}

}  // namespace whippet::consumer
