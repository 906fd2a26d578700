#pragma once

// Striped atomics for counters that many threads bump on every record: each
// thread adds to its own cache line (picked once per thread), so workers on
// different cores do not pass one line back and forth. A read sums the
// stripes; each stripe only grows, so sums read one after the other never
// go down.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace whippet::observability {

inline constexpr std::size_t kStripeCount = 16;
// Not std::hardware_destructive_interference_size: GCC warns that it may
// differ between compilations, and 64 bytes is what x86-64 and most ARM use.
inline constexpr std::size_t kCacheLineBytes = 64;

// The stripe the calling thread writes to: threads are dealt stripes in
// turn, so up to kStripeCount threads never share one.
inline std::size_t this_thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t stripe =
      next.fetch_add(1, std::memory_order_relaxed) % kStripeCount;
  return stripe;
}

class StripedCounter {
 public:
  void add(std::uint64_t amount = 1) noexcept {
    // Relaxed: a counter orders nothing else, it only has to add up.
    stripes_[this_thread_stripe()].value.fetch_add(amount, std::memory_order_relaxed);
  }
  std::uint64_t load() const noexcept {
    std::uint64_t total = 0;
    for (const auto& stripe : stripes_) total += stripe.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(kCacheLineBytes) Stripe {
    std::atomic<std::uint64_t> value{0};
  };
  std::array<Stripe, kStripeCount> stripes_{};
};

}  // namespace whippet::observability
