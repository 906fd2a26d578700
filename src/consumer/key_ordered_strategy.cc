#include "consumer/key_ordered_strategy.h"

namespace whippet::consumer {

void KeyOrderedStrategy::dispatch(const std::shared_ptr<PartitionState>& partition,
                                  std::vector<Record> records) {
  auto& lanes = partitions_[partition.get()];
  if (!lanes) {
    lanes = std::make_shared<PartitionLanes>();
    lanes->partition = partition;
  }
  std::vector<Record> to_start;
  {
    std::lock_guard lock(lanes->mutex);
    for (auto& record : records) {
      if (!record.key) {
        to_start.push_back(std::move(record));
        continue;
      }
      auto [lane, idle] = lanes->waiting_by_key.try_emplace(*record.key);
      if (idle) {
        to_start.push_back(std::move(record));  // the key had nothing running
      } else {
        lane->second.push_back(std::move(record));
      }
    }
  }
  for (auto& record : to_start) {
    context_.workers->submit([this, lanes, record = std::move(record)]() mutable {
      run_key(lanes, std::move(record));
    });
  }
}

void KeyOrderedStrategy::run_key(const std::shared_ptr<PartitionLanes>& lanes, Record record) {
  for (;;) {
    run_record(context_, *lanes->partition, record);
    if (!record.key) return;
    std::lock_guard lock(lanes->mutex);
    if (lanes->removed) return;
    auto lane = lanes->waiting_by_key.find(*record.key);
    if (lane == lanes->waiting_by_key.end()) return;
    if (lane->second.empty()) {
      lanes->waiting_by_key.erase(lane);
      return;
    }
    // The key's next record, on this thread: its order is kept and no other
    // task can run it meanwhile.
    record = std::move(lane->second.front());
    lane->second.pop_front();
  }
}

void KeyOrderedStrategy::remove(const PartitionState& partition) {
  auto found = partitions_.find(&partition);
  if (found == partitions_.end()) return;
  {
    std::lock_guard lock(found->second->mutex);
    found->second->removed = true;
    found->second->waiting_by_key.clear();
  }
  partitions_.erase(found);
}

}  // namespace whippet::consumer
