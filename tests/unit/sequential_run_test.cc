// SequentialRun: how a partition-ordered lane runs one partition's records
// one after another, completing each as the next begins.

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "consumer/consumer_counters.h"
#include "consumer/dispatch_strategy.h"
#include "consumer/partition_state.h"
#include "whippet/retry.h"

namespace whippet::consumer {
namespace {

class SequentialRunTest : public ::testing::Test {
 protected:
  SequentialRunTest() {
    context_.handler = [this](const Record& record) {
      handled_.push_back(record.offset);
      if (record.offset == abandon_at_) throw RecordAbandoned("interrupted");
    };
    context_.counters = &counters_;
    // No retry policy: these handlers succeed or throw RecordAbandoned,
    // which never reaches one.
    context_.wake_poll_thread = [this] { ++wakes_; };
    partition_.dispatched(records_);
  }

  static Record record_at(int64_t offset) {
    Record record;
    record.topic = "orders";
    record.partition = 0;
    record.offset = offset;
    record.value = "v";
    return record;
  }

  int64_t position() const { return partition_.progress().position; }

  std::vector<Record> records_{record_at(10), record_at(11), record_at(12)};
  PartitionState partition_{{"orders", 0}, 1, 10};
  ConsumerCounters counters_;
  DispatchContext context_;
  std::vector<int64_t> handled_;
  int64_t abandon_at_ = -1;
  int wakes_ = 0;
};

TEST_F(SequentialRunTest, EachRecordCompletesWhenTheNextBeginsAndTheLastOnFinish) {
  SequentialRun run(context_, partition_);
  run.run(records_[0]);
  EXPECT_EQ(position(), 10) << "10 is handled but completes only with the next record's start";
  run.run(records_[1]);
  EXPECT_EQ(position(), 11);
  run.run(records_[2]);
  EXPECT_EQ(position(), 12);
  run.finish();
  EXPECT_EQ(position(), 13);
  EXPECT_EQ(handled_, (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(counters_.records_handled.load(), 3u);
  EXPECT_EQ(wakes_, 0) << "nothing paused or draining: the poll thread sleeps on";
}

TEST_F(SequentialRunTest, TheLastRecordCompletesWhenTheRunEnds) {
  {
    SequentialRun run(context_, partition_);
    run.run(records_[0]);
    run.run(records_[1]);
  }
  EXPECT_EQ(position(), 12);
}

TEST_F(SequentialRunTest, ARevokeBetweenRecordsCompletesTheHandledOneAndRunsNoMore) {
  SequentialRun run(context_, partition_);
  run.run(records_[0]);
  partition_.stop_starting();
  run.run(records_[1]);
  run.run(records_[2]);
  EXPECT_EQ(handled_, (std::vector<int64_t>{10})) << "a revoked partition's records go unhandled";
  EXPECT_EQ(position(), 11) << "the record handled before the revoke is committed";
  EXPECT_EQ(wakes_, 1) << "completing the last running record ends the drain the poll thread waits for";
  run.finish();
  EXPECT_EQ(position(), 11);
  EXPECT_EQ(wakes_, 1) << "nothing was left to complete";
}

TEST_F(SequentialRunTest, AnAbandonedRecordIsNeverCompleted) {
  abandon_at_ = 11;
  SequentialRun run(context_, partition_);
  run.run(records_[0]);
  run.run(records_[1]);
  EXPECT_EQ(position(), 11) << "10 completed as 11 began";
  run.run(records_[2]);
  run.finish();
  EXPECT_EQ(handled_, (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(position(), 11) << "11 stays pending, so nothing after it may be committed";
  EXPECT_EQ(partition_.progress().handled_above, (std::vector<int64_t>{12}))
      << "12 completed after the abandoned record";
  EXPECT_EQ(counters_.records_handled.load(), 2u);
}

}  // namespace
}  // namespace whippet::consumer
