// The consumer's runtime snapshot and control verbs on the embedded cluster.

#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "support/test_cluster.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"
#include "whippet/prometheus.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::HandledRecords;

class ConsumerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_options_.brokers = cluster_.bootstrap_servers();
    topic_ = testing::unique_name("runtime");
    cluster_.create_topic(topic_, 2);
  }

  ConsumerOptions options() const {
    ConsumerOptions options;
    options.cluster = cluster_options_;
    options.group_id = testing::unique_name("group");
    options.topics = {topic_};
    options.initial_offset = InitialOffset::kEarliest;
    options.commit_interval = 100ms;
    options.session_timeout = 6000ms;
    return options;
  }

  static const PartitionSnapshot* find(const ConsumerSnapshot& snapshot, int32_t partition) {
    for (const auto& entry : snapshot.partitions) {
      if (entry.partition == partition) return &entry;
    }
    return nullptr;
  }

  EmbeddedCluster cluster_{EmbeddedCluster::Options{}};
  ClusterOptions cluster_options_;
  std::string topic_;
};

TEST_F(ConsumerRuntimeTest, SnapshotShowsTheStuckRecordAndHowLongItRuns) {
  testing::produce_numbered(cluster_options_, topic_, 10, 2);  // 5 per partition
  std::promise<void> stuck;
  std::promise<void> release;
  auto released = release.get_future().share();
  Consumer consumer(options(), [&](const Record& record) {
    if (record.partition == 0 && record.offset == 3) {
      stuck.set_value();
      released.wait();
    }
  });
  ASSERT_EQ(stuck.get_future().wait_for(20s), std::future_status::ready);
  const auto first = consumer.snapshot();
  const auto* stuck_partition = find(first, 0);
  ASSERT_NE(stuck_partition, nullptr);
  ASSERT_EQ(stuck_partition->in_progress_offset, 3);
  EXPECT_EQ(stuck_partition->in_flight, 1u);
  EXPECT_EQ(stuck_partition->queued, 1u) << "offset 4 waits behind the stuck record";
  EXPECT_LT(stuck_partition->in_progress_seconds, 1.0);
  std::this_thread::sleep_for(1200ms);
  const auto later = consumer.snapshot();
  const auto* still_stuck = find(later, 0);
  ASSERT_NE(still_stuck, nullptr);
  EXPECT_EQ(still_stuck->in_progress_offset, 3);
  EXPECT_GE(still_stuck->in_progress_seconds, stuck_partition->in_progress_seconds + 1.0);
  EXPECT_EQ(still_stuck->committed_offset, 3) << "the committed offset stops at the stuck record";
  EXPECT_EQ(still_stuck->high_watermark, 5);
  EXPECT_EQ(still_stuck->lag, 2);
  EXPECT_GT(still_stuck->lag_seconds, 1.0);
  EXPECT_EQ(later.state, "running");
  EXPECT_EQ(later.group, later.handler) << "the handler name defaults to the group";
  release.set_value();
}

TEST_F(ConsumerRuntimeTest, PausedPartitionWaitsForResume) {
  HandledRecords handled;
  Consumer consumer(options(), [&](const Record& record) { handled.add(record); });
  ASSERT_TRUE(consumer.wait_for_assignment(20s));
  const TopicPartition held{topic_, 1};
  consumer.pause(held);
  testing::produce_numbered(cluster_options_, topic_, 10, 2);
  ASSERT_TRUE(handled.wait_for_count(5, 20s));
  // Partition 0 flowed; partition 1 must not, however long we give it.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(handled.by_partition().count(1), 0u) << "a paused partition was consumed";
  consumer.resume(held);
  ASSERT_TRUE(handled.wait_for_count(10, 20s)) << handled.count() << " handled";
  EXPECT_EQ(handled.by_partition().at(1).size(), 5u);
  EXPECT_THROW(consumer.pause({topic_, 7}), Error) << "pausing an unassigned partition";
}

TEST_F(ConsumerRuntimeTest, OperatorPauseAndBackPressureTogetherLoseAndRepeatNothing) {
  testing::produce_numbered(cluster_options_, topic_, 200, 2);
  auto consumer_options = options();
  consumer_options.max_queued_records_per_partition = 4;  // back-pressure all the time
  HandledRecords handled;
  Consumer consumer(consumer_options, [&](const Record& record) {
    std::this_thread::sleep_for(1ms);
    handled.add(record);
  });
  ASSERT_TRUE(consumer.wait_for_assignment(20s));
  const TopicPartition held{topic_, 1};
  consumer.pause(held);
  ASSERT_TRUE(handled.wait_for_count(20, 20s));
  consumer.resume(held);
  consumer.pause(held);
  consumer.resume(held);
  ASSERT_TRUE(handled.wait_for_count(200, 30s)) << handled.count() << " handled";
  EXPECT_GT(consumer.stats().pauses, 0u) << "back-pressure never engaged";
  for (const auto& [partition, offsets] : handled.by_partition()) {
    ASSERT_EQ(offsets.size(), 100u) << "partition " << partition;
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      ASSERT_EQ(offsets[i], static_cast<int64_t>(i)) << "partition " << partition;
    }
  }
}

// With metrics on, a handler's end reading serves as the start of the next
// record of the same worker task; one begun after an idle spell must be
// timed from its own start, not from the end of the record before the spell.
TEST_F(ConsumerRuntimeTest, ARecordAfterAnIdleSpellRunsSinceItsOwnStart) {
  auto options = this->options();
  options.worker_threads = 1;  // the thread that timed the first records begins the stuck one
  options.metrics = metrics::MetricsReporter({std::make_shared<metrics::PrometheusSink>()});
  std::promise<void> stuck;
  std::promise<void> release;
  auto released = release.get_future().share();
  HandledRecords handled;
  Consumer consumer(options, [&](const Record& record) {
    handled.add(record);
    if (record.partition == 0 && record.offset == 1) {
      stuck.set_value();
      released.wait();
    }
  });
  // One partition only: the first record after the spell is the one checked.
  testing::produce_numbered(cluster_options_, topic_, 1, 1);
  ASSERT_TRUE(handled.wait_for_count(1, 20s));
  std::this_thread::sleep_for(1500ms);
  testing::produce_numbered(cluster_options_, topic_, 1, 1);
  ASSERT_EQ(stuck.get_future().wait_for(20s), std::future_status::ready);
  const auto snapshot = consumer.snapshot();
  const auto* partition = find(snapshot, 0);
  ASSERT_NE(partition, nullptr);
  ASSERT_EQ(partition->in_progress_offset, 1);
  EXPECT_LT(partition->in_progress_seconds, 1.0) << "timed from before the idle spell";
  release.set_value();
  EXPECT_TRUE(handled.wait_for_count(2, 20s));
}

}  // namespace
}  // namespace whippet
