// PartitionState::complete_then_begin: the hand-over a partition-ordered
// lane makes between two records, under one lock.

#include <chrono>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "consumer/partition_state.h"

namespace whippet::consumer {
namespace {

using Clock = PartitionState::Clock;

std::vector<Record> records_at(std::vector<int64_t> offsets) {
  std::vector<Record> records;
  for (const auto offset : offsets) {
    Record record;
    record.topic = "orders";
    record.partition = 0;
    record.offset = offset;
    record.value = "v";
    records.push_back(record);
  }
  return records;
}

PartitionSnapshot snapshot_of(const PartitionState& partition) {
  return partition.snapshot(Clock::now(), 0);
}

// Records 0 and 1 dispatched, 0 running, and the partition being revoked.
std::unique_ptr<PartitionState> revoking_while_the_first_runs() {
  auto partition = std::make_unique<PartitionState>(TopicPartition{"orders", 0}, 1, 0);
  partition->dispatched(records_at({0, 1}));
  EXPECT_TRUE(partition->begin(0));
  partition->stop_starting();
  return partition;
}

TEST(PartitionStateTest, CompleteThenBeginMovesThePositionAndRunsTheNextRecord) {
  PartitionState partition({"orders", 0}, 1, 10);
  partition.dispatched(records_at({10, 11, 12}));
  ASSERT_TRUE(partition.begin(10));

  const auto handover = partition.complete_then_begin(10, 11);
  EXPECT_TRUE(handover.started);
  EXPECT_EQ(partition.progress().position, 11) << "10 is complete";
  const auto snapshot = snapshot_of(partition);
  EXPECT_EQ(snapshot.in_flight, 1u) << "10 left, 11 runs";
  EXPECT_EQ(snapshot.in_progress_offset, 11);

  EXPECT_TRUE(partition.complete_then_begin(11, 12).started);
  partition.complete(12);
  EXPECT_EQ(partition.progress().position, 13);
  EXPECT_EQ(snapshot_of(partition).in_flight, 0u);
}

TEST(PartitionStateTest, ARevokeBetweenTwoRecordsCompletesTheFirstAndStartsNoMore) {
  const auto revoking = revoking_while_the_first_runs();
  auto& partition = *revoking;
  const auto handover = partition.complete_then_begin(0, 1);
  EXPECT_FALSE(handover.started) << "record 1 belongs to the next owner";
  EXPECT_TRUE(handover.wake) << "the drain waiting on the poll thread is over";
  EXPECT_TRUE(partition.wait_until_idle(Clock::now()));
  EXPECT_EQ(partition.progress().position, 1) << "what finished before the fence is committed";
  EXPECT_EQ(snapshot_of(partition).in_flight, 0u);
}

TEST(PartitionStateTest, ACompletionAfterTheFenceCountsForNothing) {
  const auto revoking = revoking_while_the_first_runs();
  auto& partition = *revoking;
  partition.fence();

  EXPECT_FALSE(partition.complete_then_begin(0, 1).started);
  EXPECT_EQ(snapshot_of(partition).in_flight, 0u) << "the finished record still leaves";
  EXPECT_EQ(partition.progress().position, 0) << "a fenced assignment commits nothing more";
}

TEST(PartitionStateTest, AHandoverWakesThePollThreadForAPausedPartitionOnceBelowItsMark) {
  PartitionState partition({"orders", 0}, 1, 0);
  partition.dispatched(records_at({0, 1, 2, 3}));
  partition.mark_paused(QueueBound{3, 1 << 20, 0});  // resume below 3 pending
  ASSERT_TRUE(partition.begin(0));
  EXPECT_FALSE(partition.complete_then_begin(0, 1).wake) << "3 still pending";
  const auto handover = partition.complete_then_begin(1, 2);
  EXPECT_TRUE(handover.started);
  EXPECT_TRUE(handover.wake) << "2 pending: the paused partition may resume";
  EXPECT_TRUE(partition.resume_wanted());
}

TEST(PartitionStateTest, AHandoverThatMovesThePositionWakesAPollThreadWaitingForIt) {
  PartitionState partition({"orders", 0}, 1, 0);
  partition.dispatched(records_at({0, 1, 2}));
  ASSERT_TRUE(partition.begin(0));
  partition.wake_when_position_advances();
  EXPECT_TRUE(partition.complete_then_begin(0, 1).wake) << "the gap window moved";
  EXPECT_FALSE(partition.complete_then_begin(1, 2).wake) << "one wake-up per request";
}

}  // namespace
}  // namespace whippet::consumer
