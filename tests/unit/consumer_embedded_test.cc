// The consumer engine against the embedded (mock) cluster: fast and
// deterministic, no broker needed.

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "embedded_consumer_fixture.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::HandledRecords;
using testing::produce_numbered;
using testing::unique_name;

using ConsumerEmbeddedTest = EmbeddedConsumerFixture;

// Each partition's offsets 0..per_partition-1, each handled once, in order.
void expect_every_partition_handled_once_in_order(const HandledRecords& handled,
                                                  int per_partition) {
  for (const auto& [partition, offsets] : handled.by_partition()) {
    ASSERT_EQ(offsets.size(), static_cast<std::size_t>(per_partition));
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      ASSERT_EQ(offsets[i], static_cast<int64_t>(i)) << "partition " << partition;
    }
  }
}

TEST_F(ConsumerEmbeddedTest, HandlesEveryRecordInPartitionOrderAndCommitsTheEnd) {
  constexpr int kRecords = 2000;
  produce_numbered(cluster_options_, topic_, kRecords, kPartitions);
  HandledRecords handled;
  const auto group = unique_name("group");
  {
    Consumer consumer(options(group), [&](const Record& record) { handled.add(record); });
    ASSERT_TRUE(handled.wait_for_count(kRecords, 30s)) << handled.count() << " handled";
    consumer.close(5s);
  }
  EXPECT_EQ(handled.count(), static_cast<std::size_t>(kRecords));
  expect_every_partition_handled_once_in_order(handled, kRecords / kPartitions);
  for (const auto& [partition, offset] : committed(group)) {
    EXPECT_EQ(offset, kRecords / kPartitions) << "partition " << partition;
  }
}

TEST_F(ConsumerEmbeddedTest, BackPressurePausesAndLosesNothing) {
  constexpr int kRecords = 400;
  produce_numbered(cluster_options_, topic_, kRecords, kPartitions);
  auto consumer_options = options(unique_name("group"));
  consumer_options.max_queued_records_per_partition = 8;
  consumer_options.worker_threads = 2;
  HandledRecords handled;
  Consumer consumer(consumer_options, [&](const Record& record) {
    std::this_thread::sleep_for(1ms);
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_count(kRecords, 30s)) << handled.count() << " handled";
  EXPECT_GT(consumer.stats().pauses, 0u) << "the queue bound never paused a partition";
  expect_every_partition_handled_once_in_order(handled, kRecords / kPartitions);
}

TEST_F(ConsumerEmbeddedTest, BackPressureBoundsBytesAndStillPassesARecordLargerThanTheBound) {
  constexpr int kRecords = 200;
  produce_numbered(cluster_options_, topic_, kRecords, kPartitions);
  auto consumer_options = options(unique_name("group"));
  consumer_options.max_queued_records_per_partition = 100000;  // only the bytes bind
  consumer_options.max_queued_bytes_per_partition = 1;         // below any one record
  consumer_options.worker_threads = 2;
  HandledRecords handled;
  Consumer consumer(consumer_options, [&](const Record& record) {
    std::this_thread::sleep_for(1ms);
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_count(kRecords, 30s)) << handled.count() << " handled";
  EXPECT_GT(consumer.stats().pauses, 0u) << "the byte bound never paused a partition";
  expect_every_partition_handled_once_in_order(handled, kRecords / kPartitions);
}

TEST_F(ConsumerEmbeddedTest, LatestCommitsItsStartSoARestartMissesNothing) {
  const auto group = unique_name("group");
  produce_numbered(cluster_options_, topic_, 40, kPartitions);  // before: skipped by latest
  auto latest = options(group);
  latest.initial_offset = InitialOffset::kLatest;
  {
    Consumer consumer(latest, [](const Record&) {});
    ASSERT_TRUE(consumer.wait_for_assignment(20s));
    for (const auto& [partition, offset] : committed(group)) {
      EXPECT_EQ(offset, 10) << "start position of partition " << partition << " not committed";
    }
    consumer.close(5s);
  }
  // Produced while no member runs: a `latest` restart must still see them.
  produce_numbered(cluster_options_, topic_, 8, kPartitions);
  HandledRecords handled;
  Consumer consumer(latest, [&](const Record& record) { handled.add(record); });
  ASSERT_TRUE(handled.wait_for_count(8, 20s)) << handled.count() << " handled";
  for (const auto& [partition, offsets] : handled.by_partition()) {
    EXPECT_EQ(offsets, (std::vector<int64_t>{10, 11})) << "partition " << partition;
  }
}

TEST_F(ConsumerEmbeddedTest, AFailingHandlerIsCountedAndDoesNotStallThePartition) {
  produce_numbered(cluster_options_, topic_, 40, kPartitions);
  HandledRecords handled;
  Consumer consumer(options(unique_name("group")), [&](const Record& record) {
    handled.add(record);
    if (record.offset == 3) throw std::runtime_error("poison");
  });
  ASSERT_TRUE(handled.wait_for_count(40, 20s));
  consumer.close(5s);  // the last handler may still be counting
  EXPECT_EQ(consumer.stats().handler_failures, static_cast<uint64_t>(kPartitions));
  EXPECT_EQ(consumer.stats().records_handled, 40u - kPartitions);
}

TEST_F(ConsumerEmbeddedTest, CloseWaitsForTheRunningHandlerAndCommitsIt) {
  produce_numbered(cluster_options_, topic_, kPartitions, kPartitions);
  const auto group = unique_name("group");
  std::promise<void> started;
  std::atomic<bool> first{true};
  HandledRecords handled;
  auto consumer = std::make_unique<Consumer>(options(group), [&](const Record& record) {
    if (first.exchange(false)) {
      started.set_value();
      std::this_thread::sleep_for(500ms);
    }
    handled.add(record);
  });
  ASSERT_EQ(started.get_future().wait_for(20s), std::future_status::ready);
  // The three other partitions' records are done; the first is still running.
  ASSERT_TRUE(handled.wait_for_count(kPartitions - 1, 20s));
  ASSERT_EQ(handled.count(), static_cast<std::size_t>(kPartitions - 1));
  consumer->close(5s);
  EXPECT_EQ(handled.count(), static_cast<std::size_t>(kPartitions));
  for (const auto& [partition, offset] : committed(group)) {
    EXPECT_EQ(offset, 1) << "partition " << partition;
  }
}

TEST_F(ConsumerEmbeddedTest, APartitionThatDoesNotDrainInTimeCommitsNothingMore) {
  produce_numbered(cluster_options_, topic_, kPartitions, kPartitions);
  const auto group = unique_name("group");
  auto consumer_options = options(group);
  consumer_options.drain_timeout = 200ms;
  consumer_options.commit_interval = 60s;  // only the revoke commits
  std::promise<int32_t> stuck_partition;
  std::atomic<bool> first{true};
  std::promise<void> release;
  auto released = release.get_future().share();
  HandledRecords handled;
  auto consumer = std::make_unique<Consumer>(consumer_options, [&](const Record& record) {
    if (first.exchange(false)) {
      stuck_partition.set_value(record.partition);
      released.wait();
    }
    handled.add(record);
  });
  auto stuck = stuck_partition.get_future();
  ASSERT_EQ(stuck.wait_for(20s), std::future_status::ready);
  ASSERT_TRUE(handled.wait_for_count(kPartitions - 1, 20s));
  std::thread closer([&] { consumer->close(200ms); });
  // close() must give up on the stuck partition after the drain timeout;
  // the handler is released afterwards so the worker can finish.
  std::this_thread::sleep_for(1s);
  release.set_value();
  closer.join();
  const auto stuck_id = stuck.get();
  for (const auto& [partition, offset] : committed(group)) {
    if (partition == stuck_id) {
      EXPECT_EQ(offset, 0) << "the stuck record was committed";
    } else {
      EXPECT_EQ(offset, 1) << "partition " << partition;
    }
  }
}

TEST(ConsumerValidationTest, RejectsOptionsWithoutGroupOrTopics) {
  ConsumerOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.topics = {"t"};
  try {
    Consumer consumer(options, [](const Record&) {});
    FAIL() << "a consumer without group was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("group_id"), std::string::npos);
  }
  options.group_id = "g";
  options.topic_pattern = "orders-.*";
  EXPECT_THROW(Consumer(options, [](const Record&) {}), Error);
  options.topics.clear();
  options.topic_pattern = "orders-(";
  EXPECT_THROW(Consumer(options, [](const Record&) {}), Error);
}

}  // namespace
}  // namespace whippet
