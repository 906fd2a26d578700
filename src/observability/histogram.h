#pragma once

// A fixed-bucket histogram that any number of threads observe into without
// a lock: two relaxed atomic increments (the bucket, the sum) on the calling
// thread's own stripe (observability/striped.h), summed at snapshot time.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "observability/striped.h"

namespace whippet::observability {

// Upper bounds shared by every duration histogram, from half a millisecond
// (a cheap handler or a local delivery) to a minute (a handler stuck behind
// a slow dependency); longer ones land in +Inf.
inline constexpr std::array<double, 16> kDurationBucketSeconds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,   1,      2.5,   5,     10,    30,    60};

// What render() needs, read once so that the cumulative counts, the count
// and the sum it prints agree with each other.
struct HistogramSnapshot {
  std::span<const double> upper_bounds;          // in seconds, without +Inf
  std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
  std::uint64_t count = 0;
  double sum_seconds = 0;
};

class DurationHistogram {
 public:
  DurationHistogram();

  void observe(std::chrono::nanoseconds duration) noexcept {
    observe(duration, this_thread_stripe_lease());
  }
  // With the lease the caller already looked up for other series it adds to.
  void observe(std::chrono::nanoseconds duration, const StripeLease& lease) noexcept;
  HistogramSnapshot snapshot() const;

 private:
  // The bounds in nanoseconds: integer comparisons on the event path.
  static const std::array<std::int64_t, kDurationBucketSeconds.size()>& bounds_nanoseconds();

  struct alignas(kCacheLineBytes) Stripe {
    // Nanoseconds, as an integer: a double would need a compare-exchange
    // loop. First, so that it shares a cache line with the short buckets.
    std::atomic<std::uint64_t> sum_nanoseconds{0};
    // Per-bucket (not cumulative) counts; the last one is +Inf.
    std::array<std::atomic<std::uint64_t>, kDurationBucketSeconds.size() + 1> buckets{};
  };
  std::array<Stripe, kStripeSlots> stripes_{};
};

}  // namespace whippet::observability
