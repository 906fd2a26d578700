// The positions side of a subscriber session: acknowledgements, commits to
// the subscriber's group, and what the snapshot shows of it.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "subscriber_session.h"
#include "whippet/error.h"

namespace whippet::fanout {

SubscriberSession::AcknowledgeResult SubscriberSession::acknowledge(
    int32_t partition, std::span<const std::pair<int64_t, int64_t>> ranges) {
  AcknowledgeResult result;
  std::lock_guard lock(feed_->mutex());
  const auto cursor = state_.cursors.find(partition);
  for (const auto& [first, last] : ranges) {
    // The service refuses ranges that are negative, reversed or too long.
    const auto asked = static_cast<std::uint64_t>(last - first) + 1;
    const auto accepted =
        cursor == state_.cursors.end() ? 0 : cursor->second.in_flight.acknowledge(first, last);
    result.accepted += static_cast<std::uint32_t>(accepted);
    result.ignored += static_cast<std::uint32_t>(asked - accepted);
  }
  if (result.accepted > 0) {
    const bool was_full = state_.in_flight >= settings_.max_in_flight;
    state_.in_flight -= result.accepted;
    acknowledged_.fetch_add(result.accepted, std::memory_order_relaxed);
    if (was_full) wake();
  }
  return result;
}

std::vector<PartitionOffset> SubscriberSession::acknowledged_positions(bool changed_only) {
  std::vector<PartitionOffset> positions;
  for (const auto& [partition, cursor] : state_.cursors) {
    const auto position = cursor.acknowledged_position();
    if (changed_only && cursor.committed == position) continue;
    positions.push_back({{settings_.topic, partition}, position});
  }
  return positions;
}

void SubscriberSession::commit_acknowledged() {
  // Reading the positions and committing them under one lock: a revoke's
  // newer commit cannot land before this older one.
  std::lock_guard committing(commit_mutex_);
  std::vector<PartitionOffset> positions;
  {
    std::lock_guard lock(feed_->mutex());
    positions = acknowledged_positions(true);
  }
  if (positions.empty()) return;
  try {
    private_reader_.commit(positions);
  } catch (const Error& error) {
    commit_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("fanout {} for {}: commit failed, trying again later: {}", settings_.topic,
                 settings_.subscriber, error.what());
    return;
  }
  std::lock_guard lock(feed_->mutex());
  for (const auto& position : positions) {
    const auto cursor = state_.cursors.find(position.partition.partition);
    if (cursor != state_.cursors.end()) cursor->second.committed = position.offset;
  }
}

void SubscriberSession::commit_now(const std::vector<PartitionOffset>& positions) {
  if (positions.empty()) return;
  std::lock_guard committing(commit_mutex_);
  try {
    private_reader_.commit(positions);
  } catch (const Error& error) {
    commit_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("fanout {} for {}: final commit failed (records since the last commit will "
                 "be pushed again): {}",
                 settings_.topic, settings_.subscriber, error.what());
  }
}

SessionSnapshot SubscriberSession::snapshot() {
  SessionSnapshot snapshot;
  snapshot.id = settings_.id;
  snapshot.topic = settings_.topic;
  snapshot.subscriber = settings_.subscriber;
  snapshot.filter = settings_.filter.describe();
  snapshot.max_in_flight = settings_.max_in_flight;
  {
    std::lock_guard lock(feed_->mutex());
    snapshot.in_flight = state_.in_flight;
    snapshot.evictions = state_.evictions;
    for (const auto& [partition, cursor] : state_.cursors) {
      CursorSnapshot item;
      item.partition = partition;
      item.position = cursor.position;
      item.acknowledged = cursor.acknowledged_position();
      item.committed = cursor.committed;
      item.private_reader = cursor.source == Cursor::Source::kPrivate;
      item.in_flight = cursor.in_flight.size();
      if (!item.private_reader) {
        if (const auto end = feed_->buffer_end(partition)) {
          item.buffered_ahead = std::max<int64_t>(0, *end - cursor.position);
        }
      }
      snapshot.partitions.push_back(item);
    }
  }
  for (auto& item : snapshot.partitions) {
    auto high = feed_->high_watermark(item.partition);
    if (!high) high = private_reader_.high_watermark({settings_.topic, item.partition});
    if (high) item.lag = std::max<int64_t>(0, *high - item.acknowledged);
  }
  snapshot.pushed = pushed_.load(std::memory_order_relaxed);
  snapshot.redelivered = redelivered_.load(std::memory_order_relaxed);
  snapshot.acknowledged = acknowledged_.load(std::memory_order_relaxed);
  snapshot.filtered = filtered_.load(std::memory_order_relaxed);
  snapshot.commit_failures = commit_failures_.load(std::memory_order_relaxed);
  snapshot.private_fetched_bytes = private_reader_.fetched_bytes();
  return snapshot;
}

}  // namespace whippet::fanout
