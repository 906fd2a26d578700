// PartitionState::complete_then_begin: the hand-over a partition-ordered
// lane makes between two records, under one lock.

#include <chrono>
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
  PartitionState partition({"orders", 0}, 1, 0);
  partition.dispatched(records_at({0, 1}));
  ASSERT_TRUE(partition.begin(0));
  partition.stop_starting();

  const auto handover = partition.complete_then_begin(0, 1);
  EXPECT_FALSE(handover.started) << "record 1 belongs to the next owner";
  EXPECT_TRUE(handover.wake) << "the drain waiting on the poll thread is over";
  EXPECT_TRUE(partition.wait_until_idle(Clock::now()));
  EXPECT_EQ(partition.progress().position, 1) << "what finished before the fence is committed";
  EXPECT_EQ(snapshot_of(partition).in_flight, 0u);
}

TEST(PartitionStateTest, ACompletionAfterTheFenceCountsForNothing) {
  PartitionState partition({"orders", 0}, 1, 0);
  partition.dispatched(records_at({0, 1}));
  ASSERT_TRUE(partition.begin(0));
  partition.stop_starting();
  partition.fence();

  EXPECT_FALSE(partition.complete_then_begin(0, 1).started);
  EXPECT_EQ(partition.progress().position, 0) << "a fenced assignment commits nothing more";
}

}  // namespace
}  // namespace whippet::consumer
