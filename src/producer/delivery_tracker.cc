#include "producer/delivery_tracker.h"

namespace whippet::producer {

// The atomics use sequentially consistent ordering on purpose: finish()
// writes completions_ then reads waiters_, a waiter writes waiters_ then
// reads completions_; with both orders total, at least one of them sees the
// other, so a waiter is either woken or does not need to sleep.

bool DeliveryTracker::try_start() noexcept {
  in_flight_.fetch_add(1);
  if (closed_.load()) {
    finish();
    return false;
  }
  return true;
}

void DeliveryTracker::finish() noexcept {
  in_flight_.fetch_sub(1);
  completions_.fetch_add(1);
  if (waiters_.load() > 0) {
    // Taking the mutex orders this notification after a waiter's check of
    // its predicate, which happens with the mutex held.
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
}

bool DeliveryTracker::wait_for_room(std::uint64_t seen_completions,
                                    Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1);
  const bool woken = changed_.wait_until(lock, deadline, [&] {
    return completions_.load() != seen_completions || closed_.load();
  });
  waiters_.fetch_sub(1);
  return woken && !closed_.load();
}

bool DeliveryTracker::wait_until_idle(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1);
  const bool idle =
      changed_.wait_until(lock, deadline, [&] { return in_flight_.load() == 0; });
  waiters_.fetch_sub(1);
  return idle;
}

void DeliveryTracker::close() {
  std::lock_guard lock(mutex_);
  closed_.store(true);
  changed_.notify_all();
}

}  // namespace whippet::producer
