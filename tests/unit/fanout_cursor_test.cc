// Cursor: a record's first push is queued (in flight, in the message) before
// the cursor moves past it, so that an allocation failing on the way
// (std::bad_alloc) loses nothing: a position moved past a record that never
// went out would be committed when the session ends, and the subscriber
// would never receive the record.

#include <gtest/gtest.h>

#include <new>
#include <string>
#include <vector>

#include "deliveries_message.h"
#include "subscriber_cursor.h"

namespace whippet::fanout {
namespace {

SharedRecord record_at(int64_t offset) {
  Record record;
  record.topic = "orders";
  record.partition = 3;
  record.offset = offset;
  record.value = "value-" + std::to_string(offset);
  return share_record(std::move(record));
}

const auto kDeadline = Clock::now() + std::chrono::seconds(30);

TEST(FanoutCursor, AFirstPushMovesTheCursorPastTheQueuedRecord) {
  Cursor cursor;
  cursor.position = 7;
  DeliveriesMessage message;
  queue_first_push(cursor, record_at(7), kDeadline,
                   [&](const FanoutRecord& record) { message.add(record, 1); });
  EXPECT_EQ(cursor.position, 8);
  EXPECT_EQ(cursor.in_flight.size(), 1U);
  EXPECT_EQ(cursor.in_flight.oldest(), 7);
  EXPECT_EQ(cursor.acknowledged_position(), 7);
  EXPECT_FALSE(message.empty());
}

TEST(FanoutCursor, AFirstPushThatFailsToReachTheMessageLeavesTheCursorAsItWas) {
  Cursor cursor;
  cursor.position = 7;
  queue_first_push(cursor, record_at(7), kDeadline, [](const FanoutRecord&) {});
  ASSERT_EQ(cursor.position, 8);

  const auto record = record_at(8);
  EXPECT_THROW(queue_first_push(cursor, record, kDeadline,
                                [](const FanoutRecord&) { throw std::bad_alloc(); }),
               std::bad_alloc);
  // Not moved past offset 8, and not in flight: it is pushed (and committed)
  // as never sent.
  EXPECT_EQ(cursor.position, 8);
  EXPECT_EQ(cursor.in_flight.size(), 1U);
  EXPECT_EQ(cursor.in_flight.oldest(), 7);
  EXPECT_EQ(cursor.in_flight.acknowledge(7, 7), 1U);
  EXPECT_TRUE(cursor.in_flight.empty());
  EXPECT_EQ(cursor.acknowledged_position(), 8);  // what would be committed
  EXPECT_EQ(record.use_count(), 1);              // the cursor kept no reference

  // The same record again, once the allocation succeeds.
  queue_first_push(cursor, record, kDeadline, [](const FanoutRecord&) {});
  EXPECT_EQ(cursor.position, 9);
  EXPECT_EQ(cursor.in_flight.oldest(), 8);
  EXPECT_EQ(cursor.acknowledged_position(), 8);
}

TEST(FanoutCursor, AFailedFirstPushOfAnIdleCursorCommitsNothingPastTheRecord) {
  // Nothing else in flight: the committed position is the cursor's own.
  Cursor cursor;
  cursor.position = 20;
  EXPECT_THROW(queue_first_push(cursor, record_at(20), kDeadline,
                                [](const FanoutRecord&) { throw std::bad_alloc(); }),
               std::bad_alloc);
  EXPECT_EQ(cursor.position, 20);
  EXPECT_TRUE(cursor.in_flight.empty());
  EXPECT_EQ(cursor.acknowledged_position(), 20);
}

}  // namespace
}  // namespace whippet::fanout
