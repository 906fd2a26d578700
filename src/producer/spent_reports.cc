#include "producer/spent_reports.h"

namespace whippet::producer {

void SpentReports::add(rd_kafka_event_t* event) noexcept {
  rd_kafka_event_t* overflow = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto count = waiting_.load(std::memory_order_relaxed);
    if (count == kMaxWaiting) {
      overflow = events_[oldest_];
      oldest_ = (oldest_ + 1) % kMaxWaiting;
      --count;
      destroying_.fetch_add(1);
    }
    events_[(oldest_ + count) % kMaxWaiting] = event;
    waiting_.store(count + 1, std::memory_order_release);
  }
  // Outside the lock: freeing thousands of records takes a while.
  if (overflow != nullptr) {
    rd_kafka_event_destroy(overflow);
    destroying_.fetch_sub(1);
  }
}

rd_kafka_event_t* SpentReports::take_oldest() noexcept {
  std::lock_guard lock(mutex_);
  const auto count = waiting_.load(std::memory_order_relaxed);
  if (count == 0) return nullptr;
  auto* event = events_[oldest_];
  oldest_ = (oldest_ + 1) % kMaxWaiting;
  waiting_.store(count - 1, std::memory_order_release);
  destroying_.fetch_add(1);
  return event;
}

bool SpentReports::destroy_one() noexcept {
  if (waiting_.load(std::memory_order_acquire) == 0) return false;
  auto* event = take_oldest();
  if (event == nullptr) return false;
  rd_kafka_event_destroy(event);
  destroying_.fetch_sub(1);
  return true;
}

std::size_t SpentReports::destroy_all() noexcept {
  std::size_t destroyed = 0;
  while (destroy_one()) ++destroyed;
  return destroyed;
}

}  // namespace whippet::producer
