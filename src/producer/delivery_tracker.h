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

  // A sender waiting for room is woken once per this many outcomes (and at
  // the end of every round of delivery reports, see end_round), not once
  // per outcome: each wake-up costs a lock and a futex call on the delivery
  // thread and a context switch on the sender, while a round hands back
  // thousands of records' room at a time.
  static constexpr std::uint64_t kOutcomesPerWake = 256;

  // A record entered the producer. Returns false, undoing the count, when
  // the producer is closed. The count is taken before the closed check, so
  // that close() never misses a record that slipped in.
  bool try_start() noexcept;

  // A record's outcome was handed to the application.
  void finish() noexcept;

  // The delivery thread served a round of delivery reports. librdkafka
  // frees a record's room only after its report was served, so only now is
  // all of the round's room certainly free.
  void end_round() noexcept;

  std::size_t in_flight() const noexcept;

  // Grows with every outcome and every end_round(); a sender remembers it
  // before enqueueing so that a wait for room never misses room made in
  // between.
  std::uint64_t room_mark() const noexcept { return finished_.load() + rounds_.load(); }

  // Waits until room_mark() moves past `seen_mark`, the producer closes, or
  // the deadline passes. True when it is worth enqueueing again.
  bool wait_for_room(std::uint64_t seen_mark, Clock::time_point deadline);

  // Waits until no record is in flight; false on deadline.
  bool wait_until_idle(Clock::time_point deadline);

  // Refuses further records and wakes every waiting sender.
  void close();
  bool closed() const noexcept { return closed_.load(); }

 private:
  void wake() noexcept;

  // Senders write `started_` and the delivery thread writes `finished_`, once
  // per record each: on separate cache lines, neither write evicts the line
  // the other thread keeps writing. In flight is their difference.
  alignas(64) std::atomic<std::uint64_t> started_{0};
  alignas(64) std::atomic<std::uint64_t> finished_{0};
  std::atomic<std::uint64_t> rounds_{0};
  // Read per record, written rarely.
  alignas(64) std::atomic<bool> closed_{false};
  // Only finish() and end_round() read this: they take the mutex and
  // notify only when someone waits, so deliveries stay lock-free in the
  // common case.
  std::atomic<int> waiters_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
};

}  // namespace whippet::producer
