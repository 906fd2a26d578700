#include "consumer/partition_state.h"

#include <algorithm>
#include <tuple>

#include "consumer/handler_start.h"
#include "kafka/record_conversion.h"

namespace whippet::consumer {
namespace {

using Running = std::vector<std::pair<int64_t, PartitionState::Clock::time_point>>;

void erase_running_offset(Running& running, int64_t offset) {
  const auto found = std::find_if(running.begin(), running.end(),
                                  [offset](const auto& entry) { return entry.first == offset; });
  if (found == running.end()) return;
  *found = running.back();  // order does not matter: snapshots look for the minimum
  running.pop_back();
}

int64_t offset_of(int64_t offset) { return offset; }
int64_t offset_of(const Record& record) { return record.offset; }

}  // namespace

PartitionState::PartitionState(TopicPartition topic_partition, uint64_t epoch,
                               int64_t start_position)
    : topic_partition_(std::move(topic_partition)), epoch_(epoch), tracker_(start_position) {}

void PartitionState::dispatched(const std::vector<Record>& records) {
  std::lock_guard lock(mutex_);
  for (const auto& record : records) {
    tracker_.track(record.offset, kafka::to_milliseconds(record.timestamp),
                   payload_bytes(record));
  }
}

bool PartitionState::begin(int64_t offset) {
  const auto now = handler_start::begin();
  std::lock_guard lock(mutex_);
  return begin_locked(offset, now);
}

bool PartitionState::begin_locked(int64_t offset, Clock::time_point now) {
  if (!starting_allowed_) return false;
  running_.emplace_back(offset, now);
  return true;
}

bool PartitionState::begin(std::span<const Record> records) {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (!starting_allowed_) return false;
  for (const auto& record : records) running_.emplace_back(record.offset, now);
  handler_start::set(now);
  return true;
}

bool PartitionState::complete(int64_t offset) {
  std::lock_guard lock(mutex_);
  return complete_locked(offset);
}

bool PartitionState::complete_locked(int64_t offset) {
  erase_running_offset(running_, offset);
  const auto position_before = tracker_.committable_position();
  if (!fenced_) tracker_.complete(offset);
  return wake_after_completion(position_before);
}

PartitionState::Handover PartitionState::complete_then_begin(int64_t finished, int64_t next) {
  const auto now = handler_start::begin();
  std::lock_guard lock(mutex_);
  Handover handover;
  handover.wake = complete_locked(finished);
  handover.started = begin_locked(next, now);
  return handover;
}

bool PartitionState::complete(std::span<const Record> records) {
  std::lock_guard lock(mutex_);
  erase_running(records);
  const auto position_before = tracker_.committable_position();
  if (!fenced_) {
    for (const auto& record : records) tracker_.complete(record.offset);
  }
  return wake_after_completion(position_before);
}

bool PartitionState::wake_after_completion(int64_t position_before) {
  if (running_.empty() && !starting_allowed_) {
    idle_.notify_all();
    return true;
  }
  if (tracker_.committable_position() != position_before &&
      position_wake_wanted_.load(std::memory_order_relaxed) &&
      position_wake_wanted_.exchange(false, std::memory_order_relaxed)) {
    return true;
  }
  return paused_.load(std::memory_order_relaxed) && below_resume_mark() &&
         !resume_signalled_.exchange(true, std::memory_order_relaxed);
}

void PartitionState::abandon(int64_t offset) {
  std::lock_guard lock(mutex_);
  erase_running_offset(running_, offset);
  if (running_.empty() && !starting_allowed_) idle_.notify_all();
}

void PartitionState::abandon(std::span<const Record> records) {
  std::lock_guard lock(mutex_);
  erase_running(records);
  if (running_.empty() && !starting_allowed_) idle_.notify_all();
}

void PartitionState::erase_running(std::span<const Record> records) {
  // A batch is in offset order: one pass over the running list, however long.
  std::erase_if(running_, [records](const auto& entry) {
    return std::binary_search(records.begin(), records.end(), entry.first,
                              [](const auto& a, const auto& b) { return offset_of(a) < offset_of(b); });
  });
}

bool PartitionState::stopping() const {
  std::lock_guard lock(mutex_);
  return !starting_allowed_;
}

void PartitionState::restore_handled(std::vector<int64_t> handled) {
  std::sort(handled.begin(), handled.end());
  std::lock_guard lock(mutex_);
  restored_handled_ = std::move(handled);
}

bool PartitionState::handled_before(int64_t offset) const {
  std::lock_guard lock(mutex_);
  return std::binary_search(restored_handled_.begin(), restored_handled_.end(), offset);
}

PartitionState::Progress PartitionState::progress() const {
  std::lock_guard lock(mutex_);
  Progress progress{tracker_.committable_position(), tracker_.completed_above_position()};
  // Restored offsets not fetched yet are still handled: keep them in the
  // metadata until the position passes them.
  const int64_t last_seen = tracker_.last_tracked();
  for (auto offset : restored_handled_) {
    if (offset > last_seen && offset > progress.position) progress.handled_above.push_back(offset);
  }
  return progress;
}

PartitionState::Admission PartitionState::admission() const {
  std::lock_guard lock(mutex_);
  return {{tracker_.pending(), tracker_.pending_bytes()}, tracker_.committable_position()};
}

void PartitionState::stop_starting() {
  std::lock_guard lock(mutex_);
  starting_allowed_ = false;
}

bool PartitionState::wait_until_idle(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return idle_.wait_until(lock, deadline, [this] { return running_.empty(); });
}

void PartitionState::fence() {
  std::lock_guard lock(mutex_);
  fenced_ = true;
}

void PartitionState::mark_paused(QueueBound resume_at) {
  resume_at_records_.store(resume_at.records, std::memory_order_relaxed);
  resume_at_bytes_.store(resume_at.bytes, std::memory_order_relaxed);
  resume_at_min_records_.store(resume_at.min_records, std::memory_order_relaxed);
  paused_since_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  resume_signalled_.store(false, std::memory_order_relaxed);
  paused_.store(true, std::memory_order_release);
}

bool PartitionState::resume_wanted() const {
  if (!paused_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mutex_);
  return below_resume_mark();
}

bool PartitionState::below_resume_mark() const {
  const QueueBound resume_at{resume_at_records_.load(std::memory_order_relaxed),
                             resume_at_bytes_.load(std::memory_order_relaxed),
                             resume_at_min_records_.load(std::memory_order_relaxed)};
  return !resume_at.reached_by({tracker_.pending(), tracker_.pending_bytes()});
}

void PartitionState::mark_resumed() {
  paused_.store(false, std::memory_order_release);
  paused_since_.store(0, std::memory_order_relaxed);
}

std::optional<int64_t> PartitionState::last_committed() const {
  std::lock_guard lock(mutex_);
  return last_committed_;
}

void PartitionState::set_committed(int64_t position, std::string metadata) {
  std::lock_guard lock(mutex_);
  last_committed_ = position;
  last_committed_metadata_ = std::move(metadata);
}

bool PartitionState::committed_metadata_is(const std::string& metadata) const {
  std::lock_guard lock(mutex_);
  return last_committed_metadata_ == metadata;
}

PartitionSnapshot PartitionState::snapshot(Clock::time_point now, int64_t now_epoch_ms) const {
  PartitionSnapshot snapshot;
  snapshot.topic = topic_partition_.topic;
  snapshot.partition = topic_partition_.partition;
  const auto paused_since = paused_since_.load(std::memory_order_relaxed);
  if (paused_since != 0) {
    const auto since = Clock::time_point(Clock::duration(paused_since));
    snapshot.paused_seconds = std::chrono::duration<double>(now - since).count();
  }
  snapshot.high_watermark = high_watermark_.load();
  std::lock_guard lock(mutex_);
  snapshot.in_flight = running_.size();
  snapshot.queued = tracker_.pending() - std::min(tracker_.pending(), running_.size());
  if (!running_.empty()) {
    // Earliest start; among equal starts the lowest offset, so that the
    // answer does not depend on the map's order.
    const auto longest = std::min_element(running_.begin(), running_.end(),
                                          [](const auto& a, const auto& b) {
                                            return std::tie(a.second, a.first) <
                                                   std::tie(b.second, b.first);
                                          });
    snapshot.in_progress_offset = longest->first;
    snapshot.in_progress_seconds = std::chrono::duration<double>(now - longest->second).count();
  }
  snapshot.committed_offset = last_committed_;
  snapshot.gaps = tracker_.completed_above_position();  // restored ones are not this member's work
  const auto position = tracker_.committable_position();
  if (snapshot.high_watermark >= 0 && position >= 0) {
    snapshot.lag = std::max<int64_t>(0, snapshot.high_watermark - position);
  }
  if (auto oldest = tracker_.oldest_pending_timestamp(); oldest && *oldest > 0) {
    snapshot.lag_seconds = std::max<double>(0, (now_epoch_ms - *oldest) / 1000.0);
  }
  return snapshot;
}

}  // namespace whippet::consumer
