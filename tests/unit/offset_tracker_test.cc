#include "consumer/offset_tracker.h"

#include <iterator>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace whippet::consumer {
namespace {

TEST(OffsetTrackerTest, StartsAtTheStartPosition) {
  OffsetTracker tracker(42);
  EXPECT_EQ(tracker.committable_position(), 42);
  EXPECT_EQ(tracker.pending(), 0u);
}

TEST(OffsetTrackerTest, CommittablePositionIsTheEndOfTheCompletedPrefix) {
  OffsetTracker tracker(10);
  for (int64_t offset = 10; offset < 15; ++offset) tracker.track(offset);
  EXPECT_TRUE(tracker.complete(12));
  EXPECT_TRUE(tracker.complete(13));
  EXPECT_EQ(tracker.committable_position(), 10);
  EXPECT_EQ(tracker.completed_above_position(), (std::vector<int64_t>{12, 13}));
  EXPECT_TRUE(tracker.complete(10));
  EXPECT_EQ(tracker.committable_position(), 11);
  EXPECT_TRUE(tracker.complete(11));
  EXPECT_EQ(tracker.committable_position(), 14);
  EXPECT_EQ(tracker.pending(), 1u);
  EXPECT_TRUE(tracker.complete(14));
  EXPECT_EQ(tracker.committable_position(), 15);
  EXPECT_TRUE(tracker.completed_above_position().empty());
}

TEST(OffsetTrackerTest, HolesInOffsetsDoNotHoldThePositionBack) {
  // Compaction and transaction markers leave offsets that are never seen.
  OffsetTracker tracker(0);
  tracker.track(3);
  tracker.track(7);
  EXPECT_EQ(tracker.committable_position(), 3);
  tracker.complete(3);
  EXPECT_EQ(tracker.committable_position(), 7);
  tracker.complete(7);
  EXPECT_EQ(tracker.committable_position(), 8);
}

TEST(OffsetTrackerTest, RejectsUnknownAndRepeatedCompletions) {
  OffsetTracker tracker(0);
  tracker.track(0);
  tracker.track(1);
  EXPECT_FALSE(tracker.complete(5));
  EXPECT_TRUE(tracker.complete(1));
  EXPECT_FALSE(tracker.complete(1));
  EXPECT_EQ(tracker.pending(), 1u);
  EXPECT_EQ(tracker.committable_position(), 0);
}

TEST(OffsetTrackerTest, CountsTheBytesOfPendingRecordsUntilTheyComplete) {
  OffsetTracker tracker(0);
  tracker.track(0, 0, 100);
  tracker.track(1, 0, 30);
  tracker.track(2, 0, 5);
  EXPECT_EQ(tracker.pending_bytes(), 135u);
  EXPECT_TRUE(tracker.complete(1));
  EXPECT_EQ(tracker.pending_bytes(), 105u);
  EXPECT_FALSE(tracker.complete(1));  // a repeated completion subtracts nothing
  EXPECT_EQ(tracker.pending_bytes(), 105u);
  EXPECT_TRUE(tracker.complete(0));
  EXPECT_TRUE(tracker.complete(2));
  EXPECT_EQ(tracker.pending_bytes(), 0u);
}

TEST(OffsetTrackerTest, RejectsOutOfOrderDispatch) {
  OffsetTracker tracker(0);
  tracker.track(5);
  EXPECT_THROW(tracker.track(5), std::logic_error);
  EXPECT_THROW(tracker.track(4), std::logic_error);
}

// The window is a ring that grows: completions in scattered order while it
// wraps around and grows must give the same positions as a plain model.
TEST(OffsetTrackerTest, AWindowThatWrapsAndGrowsKeepsTheCompletedPrefix) {
  OffsetTracker tracker(0);
  std::set<int64_t> pending;
  std::mt19937 random(7);
  int64_t next = 0;
  for (int round = 0; round < 200; ++round) {
    // Offsets with holes, as compaction leaves them; the window size
    // swings between a few and several hundred entries.
    const int added = static_cast<int>(random() % (round % 50 < 25 ? 40 : 5));
    for (int i = 0; i < added; ++i) {
      next += 1 + static_cast<int64_t>(random() % 3);
      tracker.track(next, next * 10, 1);
      pending.insert(next);
    }
    const int completed = static_cast<int>(random() % (round % 50 < 25 ? 20 : 60));
    for (int i = 0; i < completed && !pending.empty(); ++i) {
      auto chosen = pending.begin();
      std::advance(chosen, static_cast<long>(random() % pending.size()));
      ASSERT_TRUE(tracker.complete(*chosen)) << *chosen;
      pending.erase(chosen);
    }
    ASSERT_EQ(tracker.pending(), pending.size());
    ASSERT_EQ(tracker.pending_bytes(), pending.size());
    if (pending.empty()) {
      ASSERT_EQ(tracker.committable_position(), next + 1);
      ASSERT_FALSE(tracker.oldest_pending_timestamp());
    } else {
      ASSERT_EQ(tracker.committable_position(), *pending.begin());
      ASSERT_EQ(tracker.oldest_pending_timestamp(), *pending.begin() * 10);
      for (const auto offset : tracker.completed_above_position()) {
        ASSERT_GT(offset, *pending.begin());
        ASSERT_FALSE(pending.contains(offset));
      }
    }
    ASSERT_EQ(tracker.last_tracked(), next);
  }
}

// Tracks `count` offsets from `next` and completes them in order, as a
// steady stream does between two fetches; returns the capacity seen right
// after the first of them was tracked.
std::size_t track_and_complete(OffsetTracker& tracker, int64_t& next, int count) {
  std::size_t capacity_at_first = 0;
  const int64_t first = next;
  for (int i = 0; i < count; ++i) {
    tracker.track(next++);
    if (i == 0) capacity_at_first = tracker.capacity();
  }
  for (int64_t offset = first; offset < next; ++offset) EXPECT_TRUE(tracker.complete(offset));
  return capacity_at_first;
}

TEST(OffsetTrackerTest, AStreamThatEmptiesTheWindowBetweenFetchesKeepsItsRoom) {
  OffsetTracker tracker(0);
  int64_t next = 0;
  track_and_complete(tracker, next, 500);
  ASSERT_EQ(tracker.capacity(), 512u);
  for (int fetch = 0; fetch < 50; ++fetch) {
    // Empty again at each fetch's first record: shrinking there would copy
    // the window back and forth with every fetch.
    ASSERT_EQ(track_and_complete(tracker, next, 500), 512u) << "fetch " << fetch;
  }
  EXPECT_EQ(tracker.committable_position(), next);
}

// A tracker whose window grew for a backlog, now handled.
class DrainedBacklog : public ::testing::Test {
 protected:
  void drain(int records, std::size_t capacity) {
    track_and_complete(tracker, next, records);
    ASSERT_EQ(tracker.capacity(), capacity);
  }

  OffsetTracker tracker{0};
  int64_t next = 0;
};

TEST_F(DrainedBacklog, GivesBackItsMemory) {
  drain(10000, 16384);
  // One record at a time from here: a quarter at a time, once the window
  // stayed sparse for as many records as it holds (the first such stretch
  // starts after the one the backlog was in).
  for (int record = 0; record < 2 * 16384 + 4096 + 1024 + 256; ++record) {
    track_and_complete(tracker, next, 1);
  }
  EXPECT_EQ(tracker.capacity(), 64u);
  EXPECT_EQ(tracker.committable_position(), next);
}

TEST_F(DrainedBacklog, ShrinksWithRecordsPendingAcrossTheRingsEndButNotBelowItsFirstSize) {
  drain(1500, 2048);
  // Each new record leaves `lag` records pending behind it, the oldest
  // completed first, until the ring has shrunk to `capacity`.
  int64_t oldest_pending = next;
  auto trickle = [&](int64_t lag, std::size_t capacity) {
    for (int record = 0; tracker.capacity() > capacity; ++record) {
      ASSERT_LT(record, 20000) << "the ring never shrank to " << capacity;
      tracker.track(next++);
      while (next - oldest_pending > lag) ASSERT_TRUE(tracker.complete(oldest_pending++));
      ASSERT_EQ(tracker.committable_position(), oldest_pending);
      ASSERT_EQ(tracker.pending(), static_cast<std::size_t>(next - oldest_pending));
    }
  };
  trickle(3, 512);
  // Twelve pending from here: when the 512-entry ring shrinks, they run
  // across its end, and the copy must keep them in order.
  trickle(12, 64);
  // 128 shrinks to the first size, 64, not to a quarter.
  EXPECT_EQ(tracker.capacity(), 64u);
  ASSERT_TRUE(tracker.complete(next - 2));
  EXPECT_EQ(tracker.completed_above_position(), std::vector<int64_t>{next - 2});
  EXPECT_EQ(tracker.committable_position(), oldest_pending);
}

}  // namespace
}  // namespace whippet::consumer
