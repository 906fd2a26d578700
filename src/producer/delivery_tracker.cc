#include "producer/delivery_tracker.h"

namespace whippet::producer {

// The atomics use sequentially consistent ordering on purpose: finish()
// writes finished_ then reads waiters_, a waiter writes waiters_ then reads
// finished_; with both orders total, at least one of them sees the other, so
// a waiter is either woken or does not need to sleep. room_may_be_free() writes
// rounds_ then reads waiters_, so the same holds for it.

bool DeliveryTracker::try_start() noexcept {
  started_.fetch_add(1);
  if (closed_.load()) {
    finish();
    return false;
  }
  return true;
}

std::size_t DeliveryTracker::in_flight() const noexcept {
  // finished_ first: started_ only grows and never trails finished_, so
  // read in this order the difference is never negative, and zero only if
  // the producer really was idle at some moment between the two reads.
  const auto finished = finished_.load();
  return static_cast<std::size_t>(started_.load() - finished);
}

void DeliveryTracker::finish(std::uint64_t count) noexcept {
  if (count == 0) return;
  const auto finished = finished_.fetch_add(count) + count;
  if (waiters_.load() > 0 && finished == started_.load()) wake();
}

void DeliveryTracker::room_may_be_free() noexcept {
  rounds_.fetch_add(1);
  if (waiters_.load() > 0) wake();
}

void DeliveryTracker::wake() noexcept {
  // Taking the mutex orders this notification after a waiter's check of its
  // predicate, which happens with the mutex held.
  std::lock_guard lock(mutex_);
  changed_.notify_all();
}

bool DeliveryTracker::wait_for_room(std::uint64_t seen_mark, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1);
  const bool woken = changed_.wait_until(
      lock, deadline, [&] { return room_mark() != seen_mark || closed_.load(); });
  waiters_.fetch_sub(1);
  return woken && !closed_.load();
}

bool DeliveryTracker::wait_until_idle(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1);
  const bool idle = changed_.wait_until(lock, deadline, [&] { return in_flight() == 0; });
  waiters_.fetch_sub(1);
  return idle;
}

void DeliveryTracker::close() {
  std::lock_guard lock(mutex_);
  closed_.store(true);
  changed_.notify_all();
}

}  // namespace whippet::producer
