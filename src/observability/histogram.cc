#include "observability/histogram.h"

#include <algorithm>
#include <cmath>

namespace whippet::observability {

DurationHistogram::DurationHistogram() {
  for (auto& stripe : stripes_) {
    for (auto& bucket : stripe.buckets) bucket.store(0, std::memory_order_relaxed);
  }
}

const std::array<std::int64_t, kDurationBucketSeconds.size()>&
DurationHistogram::bounds_nanoseconds() {
  static const auto bounds = [] {
    std::array<std::int64_t, kDurationBucketSeconds.size()> result{};
    std::transform(kDurationBucketSeconds.begin(), kDurationBucketSeconds.end(), result.begin(),
                   [](double seconds) {
                     // Rounded: 0.001 * 1e9 is not exactly a million in binary.
                     return static_cast<std::int64_t>(std::llround(seconds * 1e9));
                   });
    return result;
  }();
  return bounds;
}

void DurationHistogram::observe(std::chrono::nanoseconds duration,
                                const StripeLease& lease) noexcept {
  // A clock step can make a measured duration negative; count it as zero
  // rather than corrupt the sum.
  const std::int64_t nanoseconds = std::max<std::int64_t>(duration.count(), 0);
  const auto& bounds = bounds_nanoseconds();
  // Prometheus buckets are "less than or equal": the first bound >= value.
  // Most handlers finish within the first bucket: no search for them.
  const auto index =
      nanoseconds <= bounds.front()
          ? 0
          : static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), nanoseconds) -
                                     bounds.begin());
  auto& stripe = stripes_[lease.index];
  add_to_stripe(stripe.buckets[index], 1, lease);
  add_to_stripe(stripe.sum_nanoseconds, static_cast<std::uint64_t>(nanoseconds), lease);
}

HistogramSnapshot DurationHistogram::snapshot() const {
  HistogramSnapshot result;
  result.upper_bounds = kDurationBucketSeconds;
  constexpr auto kBuckets = kDurationBucketSeconds.size() + 1;
  // Each bucket summed over the stripes first, then made cumulative.
  std::array<std::uint64_t, kBuckets> counts{};
  std::uint64_t sum_nanoseconds = 0;
  for (const auto& stripe : stripes_) {
    for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
      counts[bucket] += stripe.buckets[bucket].load(std::memory_order_relaxed);
    }
    sum_nanoseconds += stripe.sum_nanoseconds.load(std::memory_order_relaxed);
  }
  result.cumulative_counts.reserve(kBuckets);
  std::uint64_t running = 0;
  for (const auto count : counts) {
    running += count;
    result.cumulative_counts.push_back(running);
  }
  // The count is the +Inf bucket by construction, so the two never disagree
  // even while observations race with the scrape.
  result.count = running;
  result.sum_seconds = static_cast<double>(sum_nanoseconds) / 1e9;
  return result;
}

}  // namespace whippet::observability
