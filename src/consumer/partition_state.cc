#include "consumer/partition_state.h"

namespace whippet::consumer {

PartitionState::PartitionState(TopicPartition topic_partition, uint64_t epoch,
                               int64_t start_position)
    : topic_partition_(std::move(topic_partition)), epoch_(epoch), tracker_(start_position) {}

void PartitionState::dispatched(int64_t offset) {
  std::lock_guard lock(mutex_);
  tracker_.track(offset);
}

bool PartitionState::begin(int64_t /*offset*/) {
  std::lock_guard lock(mutex_);
  if (!starting_allowed_) return false;
  ++running_;
  return true;
}

bool PartitionState::complete(int64_t offset) {
  std::lock_guard lock(mutex_);
  --running_;
  if (!fenced_) tracker_.complete(offset);
  if (running_ == 0 && !starting_allowed_) {
    idle_.notify_all();
    return true;
  }
  return paused_.load(std::memory_order_relaxed) &&
         tracker_.pending() < resume_below_.load(std::memory_order_relaxed);
}

std::size_t PartitionState::pending() const {
  std::lock_guard lock(mutex_);
  return tracker_.pending();
}

int64_t PartitionState::committable_position() const {
  std::lock_guard lock(mutex_);
  return tracker_.committable_position();
}

void PartitionState::stop_starting() {
  std::lock_guard lock(mutex_);
  starting_allowed_ = false;
}

bool PartitionState::wait_until_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return idle_.wait_until(lock, deadline, [this] { return running_ == 0; });
}

void PartitionState::fence() {
  std::lock_guard lock(mutex_);
  fenced_ = true;
}

void PartitionState::mark_paused(int64_t resume_offset, std::size_t resume_below) {
  resume_offset_ = resume_offset;
  resume_below_.store(resume_below, std::memory_order_relaxed);
  paused_.store(true, std::memory_order_release);
}

bool PartitionState::resume_wanted() const {
  if (!paused_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mutex_);
  return tracker_.pending() < resume_below_.load(std::memory_order_relaxed);
}

void PartitionState::mark_resumed() { paused_.store(false, std::memory_order_release); }

}  // namespace whippet::consumer
