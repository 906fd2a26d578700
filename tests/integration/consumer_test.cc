// The partition-ordered consumer on a real broker.

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::HandledRecords;

ConsumerOptions consumer_options(const std::string& topic, const std::string& group) {
  return testing::test_consumer_options(topic, group);
}

void expect_no_loss(const HandledRecords& handled,
                                  const std::map<int32_t, int64_t>& ends) {
  for (const auto& [partition, offsets] : handled.by_partition()) {
    std::set<int64_t> distinct(offsets.begin(), offsets.end());
    EXPECT_EQ(static_cast<int64_t>(distinct.size()), ends.at(partition))
        << "partition " << partition << " lost records";
  }
}

TEST(ConsumerIntegrationTest, HandlesOneHundredThousandRecordsInPartitionOrder) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 8;
  constexpr int kRecords = 100000;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("ordered");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  HandledRecords handled;
  Consumer consumer(consumer_options(topic, testing::unique_name("group")),
                    [&](const Record& record) { handled.add(record); });
  ASSERT_TRUE(handled.wait_for_count(kRecords, 120s)) << handled.count() << " handled";
  consumer.close(10s);

  ASSERT_EQ(handled.count(), static_cast<std::size_t>(kRecords));
  for (const auto& [partition, offsets] : handled.by_partition()) {
    ASSERT_EQ(offsets.size(), static_cast<std::size_t>(kRecords / kPartitions));
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      ASSERT_EQ(offsets[i], static_cast<int64_t>(i)) << "order broken in partition " << partition;
    }
  }
}

// A second member joins mid-stream, then the first leaves; returns how many
// records were handled more than once. Asserts that nothing was lost.
std::size_t rebalance_scenario(AssignmentStrategy strategy) {
  constexpr int kPartitions = 8;
  constexpr int kRecords = 20000;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("rebalance");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  HandledRecords handled;
  // About 2,000 records/s per member: the hand-overs happen mid-stream.
  auto slow_handler = [&](const Record& record) {
    std::this_thread::sleep_for(1ms);
    handled.add(record);
  };
  auto options = consumer_options(topic, group);
  options.worker_threads = 2;
  options.assignment_strategy = strategy;
  auto first = std::make_unique<Consumer>(options, slow_handler);
  EXPECT_TRUE(handled.wait_for_count(kRecords / 5, 60s));
  Consumer second(options, slow_handler);
  EXPECT_TRUE(second.wait_for_assignment(30s)) << "the second member got no partition";
  EXPECT_TRUE(handled.wait_for_count(kRecords / 2, 60s));
  const auto before_leaving = handled.count();
  first->close(10s);  // leaves mid-stream: its partitions move to `second`
  first.reset();
  EXPECT_LT(before_leaving, static_cast<std::size_t>(kRecords)) << "not mid-stream";
  EXPECT_TRUE(handled.wait_for_all(testing::end_offsets(cluster, topic), 120s))
      << handled.count() << " handled";
  expect_no_loss(handled, testing::end_offsets(cluster, topic));
  EXPECT_GE(handled.count(), static_cast<std::size_t>(kRecords));
  return handled.count() - std::min<std::size_t>(handled.count(), kRecords);
}

TEST(ConsumerIntegrationTest, ASecondMemberJoiningAndOneLeavingLosesNothing) {
  WHIPPET_REQUIRE_BROKER();
  const auto duplicates = rebalance_scenario(AssignmentStrategy::kRange);
  // Clean hand-overs drain and commit before revoking: only records in
  // flight at a hand-over (two workers per member) may run twice.
  EXPECT_LE(duplicates, 2u * 8u) << "more duplicates than the in-flight window allows";
}

TEST(ConsumerIntegrationTest, CooperativeStickyHandOversLoseNothing) {
  WHIPPET_REQUIRE_BROKER();
  // librdkafka 2.0.2 can lose a cooperative assignment mid-rebalance, which
  // replays up to a commit interval; nothing may be lost either way.
  const auto duplicates = rebalance_scenario(AssignmentStrategy::kCooperativeSticky);
  std::printf("[ coop    ] %zu records handled twice\n", duplicates);
}

TEST(ConsumerIntegrationTest, AHandlerSlowerThanMaxPollIntervalKeepsTheMembership) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("slow");
  testing::create_topic(cluster, topic, 1);
  testing::produce_numbered(cluster, topic, 20, 1);

  auto options = consumer_options(topic, testing::unique_name("group"));
  options.session_timeout = 6000ms;
  options.max_poll_interval = 7000ms;
  HandledRecords handled;
  Consumer consumer(options, [&](const Record& record) {
    if (record.offset == 2) std::this_thread::sleep_for(10s);  // > max.poll.interval.ms
    handled.add(record);
  });
  ASSERT_TRUE(consumer.wait_for_assignment(30s));
  const auto rebalances_at_start = consumer.stats().rebalances;
  ASSERT_TRUE(handled.wait_for_count(20, 60s)) << handled.count() << " handled";
  EXPECT_EQ(consumer.stats().rebalances, rebalances_at_start)
      << "the member was evicted and rejoined while its handler was slow";
  EXPECT_EQ(handled.count(), 20u) << "records were handled twice after an eviction";
  EXPECT_FALSE(consumer.failed()) << consumer.error();
}

TEST(ConsumerIntegrationTest, SubscribesByPattern) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto prefix = testing::unique_name("pattern");
  testing::create_topic(cluster, prefix + "-a", 2);
  testing::create_topic(cluster, prefix + "-b", 2);
  testing::produce_numbered(cluster, prefix + "-a", 10, 2);
  testing::produce_numbered(cluster, prefix + "-b", 10, 2);
  auto options = consumer_options("", testing::unique_name("group"));
  options.topics.clear();
  options.topic_pattern = prefix + "-.*";
  std::mutex mutex;
  std::set<std::string> topics;
  HandledRecords handled;
  Consumer consumer(options, [&](const Record& record) {
    {
      std::lock_guard lock(mutex);
      topics.insert(record.topic);
    }
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_count(20, 60s)) << handled.count() << " handled";
  std::lock_guard lock(mutex);
  EXPECT_EQ(topics, (std::set<std::string>{prefix + "-a", prefix + "-b"}));
}

}  // namespace
}  // namespace whippet
