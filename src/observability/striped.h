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
// The exclusive stripes plus one that every thread beyond them shares.
inline constexpr std::size_t kStripeSlots = kStripeCount + 1;
// Not std::hardware_destructive_interference_size: GCC warns that it may
// differ between compilations, and 64 bytes is what x86-64 and most ARM use.
inline constexpr std::size_t kCacheLineBytes = 64;

// The stripe the calling thread writes to. A thread leases a stripe of its
// own while one is free and gives it back when it exits, so that up to
// kStripeCount live threads each own a stripe outright and add to it with a
// plain load and store: no locked instruction on the per-record path. Threads
// beyond that share one more stripe and add to it atomically.
struct StripeLease {
  std::size_t index = 0;
  bool exclusive = false;
};
const StripeLease& this_thread_stripe_lease() noexcept;

// Adds to a stripe's cell as its lease allows. Relaxed: a counter orders
// nothing else, it only has to add up; readers load the cells relaxed.
inline void add_to_stripe(std::atomic<std::uint64_t>& cell, std::uint64_t amount,
                          const StripeLease& lease) noexcept {
  if (lease.exclusive) {
    cell.store(cell.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  } else {
    cell.fetch_add(amount, std::memory_order_relaxed);
  }
}

class StripedCounter {
 public:
  void add(std::uint64_t amount = 1) noexcept { add(amount, this_thread_stripe_lease()); }
  // With the lease the caller already looked up for other series it adds to.
  void add(std::uint64_t amount, const StripeLease& lease) noexcept {
    add_to_stripe(stripes_[lease.index].value, amount, lease);
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
  std::array<Stripe, kStripeSlots> stripes_{};
};

}  // namespace whippet::observability
