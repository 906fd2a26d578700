#pragma once

// Counts records between send() and their outcome, and lets senders wait
// for room in a full queue, and flush/close wait for the count to reach zero,
// without polling: the delivery thread signals a condition variable.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace whippet::producer {

class DeliveryTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // A record entered the producer. Returns false, undoing the count, when
  // the producer is closed. The count is taken before the closed check, so
  // that close() never misses a record that slipped in.
  bool try_start() noexcept;

  // A record's outcome was handed to the application.
  void finish() noexcept;

  std::size_t in_flight() const noexcept { return in_flight_.load(); }

  // Increases with every outcome; a sender remembers it before enqueueing so
  // that a wait for room never misses an outcome that came in between.
  std::uint64_t completions() const noexcept { return completions_.load(); }

  // Waits until an outcome arrives after `seen_completions`, the producer
  // closes, or the deadline passes. True when it is worth enqueueing again.
  bool wait_for_room(std::uint64_t seen_completions, Clock::time_point deadline);

  // Waits until no record is in flight; false on deadline.
  bool wait_until_idle(Clock::time_point deadline);

  // Refuses further records and wakes every waiting sender.
  void close();
  bool closed() const noexcept { return closed_.load(); }

 private:
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::uint64_t> completions_{0};
  std::atomic<bool> closed_{false};
  // Only finish() reads this: it takes the mutex and notifies only when
  // someone waits, so deliveries stay lock-free in the common case.
  std::atomic<int> waiters_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
};

}  // namespace whippet::producer
