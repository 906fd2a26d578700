#pragma once

// Delivery report events whose records already have their outcome, waiting
// for a sending thread to destroy them.
//
// Destroying a delivery report frees its records' memory and their room in
// librdkafka's buffer. librdkafka allocated that memory on the thread that
// sent each record; glibc's malloc frees it far more cheaply on that same
// thread than on the delivery thread (which costs arena locks, chunk
// coalescing and a sender whose thread cache is always empty: about half
// of the producer's extra CPU per record over raw librdkafka, measured with
// perf). Raw librdkafka polled from the sending thread frees there too.
//
// Senders destroy one report per send, and all of them when the buffer is
// full, before waiting for room. When nobody sends, the delivery thread
// destroys them itself: when it is idle, and beyond kMaxWaiting reports.

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>

#include <librdkafka/rdkafka.h>

namespace whippet::producer {

class SpentReports {
 public:
  static constexpr std::size_t kMaxWaiting = 32;

  SpentReports() = default;
  // Destroys what is left; must run before the client handle is destroyed.
  ~SpentReports() { destroy_all(); }
  SpentReports(const SpentReports&) = delete;
  SpentReports& operator=(const SpentReports&) = delete;

  // Takes `event`. With kMaxWaiting reports already waiting, destroys the
  // oldest here.
  void add(rd_kafka_event_t* event) noexcept;

  // Destroys the oldest waiting report; false when none waits. Costs one
  // atomic read when none does.
  bool destroy_one() noexcept;

  // Destroys every waiting report; returns how many.
  std::size_t destroy_all() noexcept;

  // True while some thread destroys a report it took: the room it frees is
  // moments away, and DeliveryTracker::room_may_be_free() follows.
  bool destroying() const noexcept { return destroying_.load() > 0; }

 private:
  rd_kafka_event_t* take_oldest() noexcept;

  std::atomic<std::size_t> waiting_{0};
  std::atomic<int> destroying_{0};  // taken out of the ring, not yet destroyed
  std::mutex mutex_;
  // A ring, so that adding never allocates.
  std::array<rd_kafka_event_t*, kMaxWaiting> events_{};
  std::size_t oldest_ = 0;
};

}  // namespace whippet::producer
