#include "consumer/offset_tracker.h"

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

}  // namespace
}  // namespace whippet::consumer
