// FlowLimiter: records- and bytes-per-second token buckets holding at most
// one second of allowance. Time is passed in explicitly: no sleeps.

#include <gtest/gtest.h>

#include <chrono>

#include "flow_limiter.h"

namespace whippet::fanout {
namespace {

using namespace std::chrono_literals;
using Clock = FlowLimiter::Clock;

// How many records of `bytes` pass at `now`, up to `most`.
int take_all(FlowLimiter& limiter, std::size_t bytes, Clock::time_point now, int most = 100000) {
  int taken = 0;
  while (taken < most && limiter.try_take(bytes, now)) ++taken;
  return taken;
}

TEST(FlowLimiter, UnlimitedPassesEverythingAndNeverNamesATime) {
  FlowLimiter limiter(0, 0);
  const auto now = Clock::now();
  EXPECT_EQ(take_all(limiter, 1 << 20, now, 10000), 10000);
  EXPECT_FALSE(limiter.next_allowed(1 << 20, now).has_value());
}

TEST(FlowLimiter, RecordsPerSecondAllowsOneSecondsWorthThenRefuses) {
  FlowLimiter limiter(10, 0);
  const auto start = Clock::now();
  EXPECT_EQ(take_all(limiter, 100, start), 10);
  EXPECT_FALSE(limiter.try_take(0, start));
  EXPECT_FALSE(limiter.try_take(0, start + 50ms)) << "half a record's worth is not a record";
}

TEST(FlowLimiter, NextAllowedIsWhenTheNextRecordHasRoom) {
  FlowLimiter limiter(10, 0);
  const auto start = Clock::now();
  ASSERT_EQ(take_all(limiter, 1, start), 10);
  const auto next = limiter.next_allowed(1, start);
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, start);
  EXPECT_NEAR(std::chrono::duration<double>(*next - start).count(), 0.1, 0.005);
  EXPECT_FALSE(limiter.try_take(1, *next - 5ms));
  EXPECT_TRUE(limiter.try_take(1, *next + 1ms));
  EXPECT_FALSE(limiter.try_take(1, *next + 1ms));
}

TEST(FlowLimiter, NextAllowedIsNowWhileThereIsRoom) {
  FlowLimiter limiter(10, 1000);
  const auto start = Clock::now();
  const auto next = limiter.next_allowed(100, start);
  ASSERT_TRUE(next.has_value());
  EXPECT_LE(*next, start);
  EXPECT_TRUE(limiter.try_take(100, start));
}

TEST(FlowLimiter, RefillsWithTimeUpToOneSecondsWorth) {
  FlowLimiter limiter(10, 0);
  const auto start = Clock::now();
  ASSERT_EQ(take_all(limiter, 1, start), 10);
  EXPECT_EQ(take_all(limiter, 1, start + 350ms), 3);
  EXPECT_EQ(take_all(limiter, 1, start + 1400ms), 10);
  // A minute idle still gives one second's worth, no more.
  EXPECT_EQ(take_all(limiter, 1, start + 61400ms), 10);
}

TEST(FlowLimiter, ATimeBeforeTheLastRefillAddsNothing) {
  FlowLimiter limiter(10, 0);
  const auto start = Clock::now();
  ASSERT_EQ(take_all(limiter, 1, start + 1s), 10);
  EXPECT_FALSE(limiter.try_take(1, start)) << "time going back must not add tokens";
  EXPECT_EQ(take_all(limiter, 1, start + 1250ms), 2);
}

TEST(FlowLimiter, BytesPerSecondCountsRecordSizes) {
  FlowLimiter limiter(0, 100);
  const auto start = Clock::now();
  EXPECT_EQ(take_all(limiter, 30, start), 3) << "3 x 30 of 100 bytes";
  EXPECT_TRUE(limiter.try_take(10, start)) << "the last 10 bytes still fit a small record";
  EXPECT_FALSE(limiter.try_take(1, start));
  const auto next = limiter.next_allowed(50, start);
  ASSERT_TRUE(next.has_value());
  EXPECT_NEAR(std::chrono::duration<double>(*next - start).count(), 0.5, 0.005);
  EXPECT_FALSE(limiter.try_take(50, start + 400ms));
  EXPECT_TRUE(limiter.try_take(50, start + 510ms));
}

TEST(FlowLimiter, ARecordLargerThanASecondOfBytesPassesOnceTheBucketIsFull) {
  FlowLimiter limiter(0, 100);
  const auto start = Clock::now();
  ASSERT_TRUE(limiter.try_take(60, start));
  EXPECT_FALSE(limiter.try_take(1000, start)) << "only 40 bytes of allowance left";
  const auto next = limiter.next_allowed(1000, start);
  ASSERT_TRUE(next.has_value());
  EXPECT_NEAR(std::chrono::duration<double>(*next - start).count(), 0.6, 0.005)
      << "it waits for a full bucket, not for 10 seconds";
  EXPECT_TRUE(limiter.try_take(1000, start + 610ms));
  EXPECT_FALSE(limiter.try_take(1, start + 610ms)) << "and it used the whole second";
}

TEST(FlowLimiter, BothLimitsMustHaveRoom) {
  FlowLimiter limiter(5, 100);
  const auto start = Clock::now();
  EXPECT_EQ(take_all(limiter, 10, start), 5) << "the records limit binds first";
  FlowLimiter bytes_bound(5, 100);
  EXPECT_EQ(take_all(bytes_bound, 40, start), 2) << "the bytes limit binds first";
  // The refused record took nothing from either bucket.
  EXPECT_TRUE(bytes_bound.try_take(20, start));
  const auto next = bytes_bound.next_allowed(40, start);
  ASSERT_TRUE(next.has_value());
  EXPECT_NEAR(std::chrono::duration<double>(*next - start).count(), 0.4, 0.005);
}

}  // namespace
}  // namespace whippet::fanout
