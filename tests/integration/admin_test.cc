// AdminClient against a real broker: the admin API calls the mock lacks.

#include <algorithm>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "support/test_cluster.h"
#include "unit/kafka_test_helpers.h"
#include "whippet/admin.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

ErrorCode error_code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.code();
  }
  ADD_FAILURE() << "expected an error";
  return ErrorCode::kKafka;
}

// Topic creation and deletion reach every broker's metadata a little later
// than the admin call returns.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

TEST(AdminIntegrationTest, CreatesDescribesAndDeletesTopics) {
  WHIPPET_REQUIRE_BROKER();
  AdminOptions options;
  options.cluster = testing::test_cluster_options();
  AdminClient admin(options);
  const auto topic = testing::unique_name("admin");
  NewTopic request;
  request.name = topic;
  request.partitions = 3;
  request.configs["retention.ms"] = "3600000";
  admin.create_topic(request);
  EXPECT_EQ(error_code_of([&] { admin.create_topic(request); }), ErrorCode::kInvalidArgument);
  EXPECT_NO_THROW(admin.create_topic(request, true));

  ASSERT_TRUE(eventually([&] { return contains(admin.list_topics(), topic); }));
  const auto description = admin.describe_topic(topic);
  ASSERT_EQ(description.partitions.size(), 3u);
  for (const auto& partition : description.partitions) {
    EXPECT_GE(partition.leader, 0);
    EXPECT_EQ(partition.replicas.size(), 1u);
    EXPECT_EQ(partition.in_sync_replicas.size(), 1u);
    EXPECT_EQ(partition.low_watermark, 0);
    EXPECT_EQ(partition.high_watermark, 0);
  }
  EXPECT_FALSE(contains(admin.list_topics(), "__consumer_offsets"));

  admin.delete_topic(topic);
  EXPECT_TRUE(eventually([&] { return !contains(admin.list_topics(), topic); }));
  EXPECT_EQ(error_code_of([&] { admin.describe_topic(topic); }), ErrorCode::kUnknownTopic);
  EXPECT_EQ(error_code_of([&] { admin.delete_topic(testing::unique_name("absent")); }),
            ErrorCode::kUnknownTopic);
}

TEST(AdminIntegrationTest, InvalidTopicRequestsAreRejected) {
  WHIPPET_REQUIRE_BROKER();
  AdminOptions options;
  options.cluster = testing::test_cluster_options();
  AdminClient admin(options);
  NewTopic too_many_replicas;
  too_many_replicas.name = testing::unique_name("replicas");
  too_many_replicas.replication_factor = 3;
  EXPECT_EQ(error_code_of([&] { admin.create_topic(too_many_replicas); }),
            ErrorCode::kInvalidArgument);
  NewTopic bad_config;
  bad_config.name = testing::unique_name("config");
  bad_config.configs["no.such.config"] = "1";
  EXPECT_NE(error_code_of([&] { admin.create_topic(bad_config); }), ErrorCode::kTimeout);
}

TEST(AdminIntegrationTest, GroupLagWithAndWithoutNamedTopics) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("lag");
  testing::create_topic(cluster, topic, 2);
  testing::produce_numbered(cluster, topic, 10, 2);
  AdminOptions options;
  options.cluster = cluster;
  AdminClient admin(options);
  const auto group = testing::unique_name("group");

  // Never committed: everything is lag.
  const auto before = admin.group_lag(group, {topic});
  ASSERT_EQ(before.size(), 2u);
  for (const auto& lag : before) {
    EXPECT_EQ(lag.committed_offset, std::nullopt);
    EXPECT_EQ(lag.high_watermark, 5);
    EXPECT_EQ(lag.lag, 5);
  }
  // Without topics, ListConsumerGroupOffsets finds what the group committed.
  EXPECT_TRUE(admin.group_lag(group, {}).empty());
  testing::commit_offset(cluster.brokers, group, topic, 1, 3, "whippet-metadata");
  const auto after = admin.group_lag(group, {});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].topic_partition, (TopicPartition{topic, 1}));
  EXPECT_EQ(after[0].committed_offset, 3);
  EXPECT_EQ(after[0].committed_metadata, "whippet-metadata");
  EXPECT_EQ(after[0].high_watermark, 5);
  EXPECT_EQ(after[0].lag, 2);
  const auto groups = admin.list_groups();
  EXPECT_TRUE(std::any_of(groups.begin(), groups.end(),
                          [&](const GroupListing& listing) { return listing.group_id == group; }));
}

TEST(AdminIntegrationTest, UnreachableBrokerFailsWithinTheOperationTimeout) {
  AdminOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.operation_timeout = 2s;
  AdminClient admin(options);
  const auto started = Clock::now();
  const auto code = error_code_of([&] { admin.list_topics(); });
  EXPECT_TRUE(code == ErrorCode::kBrokerUnreachable || code == ErrorCode::kTimeout);
  EXPECT_LT(Clock::now() - started, 5s);
}

}  // namespace
}  // namespace whippet
