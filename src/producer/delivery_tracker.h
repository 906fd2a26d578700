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

  // `count` records' outcomes were handed to the application. Wakes flush() and
  // close() after the last one, but not senders waiting for room: a record's
  // room is freed only with its delivery report (see SpentReports), so
  // waking them per outcome would cost a lock, a futex call and a context
  // switch per record for nothing.
  void finish(std::uint64_t count = 1) noexcept;

  // Room may have come back: the delivery thread served a delivery report
  // (thousands of records at a time), which a sender waiting for room can
  // destroy, or a thread destroyed reports. Wakes senders waiting for room.
  void room_may_be_free() noexcept;

  std::size_t in_flight() const noexcept;

  // Grows with every outcome and every room_may_be_free(); a sender
  // remembers it before waiting so that it never misses room made in
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
  // Only finish() and room_may_be_free() read this: they take the mutex and
  // notify only when someone waits, so deliveries stay lock-free in the
  // common case.
  std::atomic<int> waiters_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
};

}  // namespace whippet::producer
