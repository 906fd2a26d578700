// Striped counters: threads that own a stripe add without locked
// instructions, threads beyond the stripes share one; no update may be lost
// either way, nor when threads come and go and stripes change hands.

#include <gtest/gtest.h>

#include <functional>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "observability/histogram.h"
#include "observability/striped.h"

namespace whippet::observability {
namespace {

constexpr int kAddsPerThread = 20000;

void run_threads(int count, const std::function<void()>& work) {
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) threads.emplace_back(work);
  for (auto& thread : threads) thread.join();
}

TEST(StripedCounter, MoreThreadsThanStripesLoseNoUpdate) {
  StripedCounter counter;
  const int threads = static_cast<int>(kStripeCount) * 3;
  run_threads(threads, [&] {
    for (int i = 0; i < kAddsPerThread; ++i) counter.add();
  });
  EXPECT_EQ(counter.load(), static_cast<std::uint64_t>(threads) * kAddsPerThread);
}

TEST(StripedCounter, StripesPassedOnByExitingThreadsKeepTheirCounts) {
  StripedCounter counter;
  for (int round = 0; round < 5; ++round) {
    run_threads(static_cast<int>(kStripeCount), [&] {
      for (int i = 0; i < kAddsPerThread; ++i) counter.add(2);
    });
  }
  EXPECT_EQ(counter.load(), 5ull * kStripeCount * kAddsPerThread * 2);
}

TEST(StripedCounter, ThreadsOwnDistinctStripesWhileTheyLive) {
  std::mutex mutex;
  std::vector<StripeLease> leases;
  std::latch all_alive(static_cast<std::ptrdiff_t>(kStripeCount));
  run_threads(static_cast<int>(kStripeCount), [&] {
    const auto lease = this_thread_stripe_lease();
    {
      std::lock_guard lock(mutex);
      leases.push_back(lease);
    }
    // All alive at once, so none can have inherited another's stripe.
    all_alive.arrive_and_wait();
  });
  std::set<std::size_t> exclusive;
  for (const auto& lease : leases) {
    if (lease.exclusive) {
      EXPECT_TRUE(exclusive.insert(lease.index).second) << "stripe " << lease.index << " twice";
      EXPECT_LT(lease.index, kStripeCount);
    } else {
      EXPECT_EQ(lease.index, kStripeCount);
    }
  }
}

TEST(DurationHistogram, ConcurrentObservationsAllCount) {
  DurationHistogram histogram;
  const int threads = static_cast<int>(kStripeCount) + 8;
  run_threads(threads, [&] {
    for (int i = 0; i < kAddsPerThread; ++i) histogram.observe(std::chrono::microseconds(3));
  });
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, static_cast<std::uint64_t>(threads) * kAddsPerThread);
}

}  // namespace
}  // namespace whippet::observability
