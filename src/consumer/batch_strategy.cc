#include "consumer/batch_strategy.h"

namespace whippet::consumer {
void BatchStrategy::dispatch(const std::shared_ptr<PartitionState>& partition,
                             std::vector<Record> records) {
  auto& lane = lanes_[partition.get()];
  if (!lane) {
    lane = std::make_shared<Lane>();
    lane->partition = partition;
  }
  const auto now = Clock::now();
  {
    std::lock_guard lock(lane->mutex);
    if (lane->queue.empty()) lane->first_queued = now;
    for (auto& record : records) {
      lane->queued_bytes += payload_bytes(record);
      lane->queue.push_back(std::move(record));
    }
  }
  start_if_ready(lane, now);
}

bool BatchStrategy::ready(const Lane& lane, Clock::time_point now) const {
  if (lane.running || lane.queue.empty()) return false;
  return lane.queue.size() >= settings_.max_records || lane.queued_bytes >= settings_.max_bytes ||
         now - lane.first_queued >= settings_.max_wait;
}

void BatchStrategy::start_if_ready(const std::shared_ptr<Lane>& lane, Clock::time_point now) {
  {
    std::lock_guard lock(lane->mutex);
    if (!ready(*lane, now)) return;
    lane->running = true;
  }
  context_.workers->submit([this, lane] { run_batches(lane); });
}

std::vector<Record> BatchStrategy::take_batch(Lane& lane) {
  std::vector<Record> batch;
  std::size_t bytes = 0;
  while (!lane.queue.empty() && batch.size() < settings_.max_records) {
    const auto size = payload_bytes(lane.queue.front());
    // A record larger than max_bytes still goes, alone.
    if (!batch.empty() && bytes + size > settings_.max_bytes) break;
    bytes += size;
    lane.queued_bytes -= size;
    batch.push_back(std::move(lane.queue.front()));
    lane.queue.pop_front();
  }
  lane.first_queued = Clock::now();
  return batch;
}

void BatchStrategy::run_batches(const std::shared_ptr<Lane>& lane) {
  for (;;) {
    std::vector<Record> batch;
    {
      std::lock_guard lock(lane->mutex);
      batch = take_batch(*lane);
    }
    if (!batch.empty()) run_batch(context_, *lane->partition, batch);
    std::lock_guard lock(lane->mutex);
    // Full batches go on at once; a partial one waits for the tick.
    if (lane->queue.size() < settings_.max_records && lane->queued_bytes < settings_.max_bytes) {
      lane->running = false;
      return;
    }
  }
}

void BatchStrategy::on_tick(Clock::time_point now) {
  for (auto& [partition, lane] : lanes_) start_if_ready(lane, now);
}

std::optional<BatchStrategy::Clock::time_point> BatchStrategy::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [partition, lane] : lanes_) {
    std::lock_guard lock(lane->mutex);
    if (lane->running || lane->queue.empty()) continue;
    const auto due = lane->first_queued + settings_.max_wait;
    if (!earliest || due < *earliest) earliest = due;
  }
  return earliest;
}

void BatchStrategy::remove(const PartitionState& partition) {
  auto found = lanes_.find(&partition);
  if (found == lanes_.end()) return;
  {
    std::lock_guard lock(found->second->mutex);
    found->second->queue.clear();
    found->second->queued_bytes = 0;
  }
  lanes_.erase(found);
}

}  // namespace whippet::consumer
