// AdminClient against the embedded (mock) cluster, and against no cluster.

#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "cluster/embedded_registry.h"
#include "kafka_test_helpers.h"
#include "whippet/admin.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::commit_offset;
using testing::unique_name;

ErrorCode error_code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.code();
  }
  ADD_FAILURE() << "expected an error";
  return ErrorCode::kKafka;
}

void produce(const ClusterOptions& cluster, const std::string& topic, int32_t partition,
             int count) {
  ProducerOptions options;
  options.cluster = cluster;
  Producer producer(options);
  for (int index = 0; index < count; ++index) {
    ProducerRecord record;
    record.topic = topic;
    record.partition = partition;
    record.value = std::to_string(index);
    producer.send(std::move(record));
  }
  producer.flush(10s);
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// No brokers configured: the process-wide embedded cluster.
TEST(AdminEmbeddedTest, CreatesListsAndDescribesTopics) {
  AdminClient admin(AdminOptions{});
  ASSERT_TRUE(admin.cluster().is_embedded());
  const auto topic = unique_name("admin");
  NewTopic request;
  request.name = topic;
  request.partitions = 3;
  admin.create_topic(request);
  EXPECT_TRUE(contains(admin.list_topics(), topic));

  produce(ClusterOptions{}, topic, 1, 5);
  const auto description = admin.describe_topic(topic);
  EXPECT_EQ(description.name, topic);
  ASSERT_EQ(description.partitions.size(), 3u);
  for (const auto& partition : description.partitions) {
    EXPECT_EQ(partition.leader, 1);
    EXPECT_EQ(partition.replicas, std::vector<int32_t>{1});
    EXPECT_EQ(partition.low_watermark, 0);
    EXPECT_EQ(partition.high_watermark, partition.partition == 1 ? 5 : 0);
  }
}

TEST(AdminEmbeddedTest, CreatingAnExistingTopicFailsUnlessIfNotExists) {
  AdminClient admin(AdminOptions{});
  NewTopic request;
  request.name = unique_name("existing");
  admin.create_topic(request);
  EXPECT_THROW(admin.create_topic(request), Error);
  EXPECT_NO_THROW(admin.create_topic(request, true));
}

TEST(AdminEmbeddedTest, UnknownTopicAndUnsupportedDeleteAreClearErrors) {
  AdminClient admin(AdminOptions{});
  const auto missing = unique_name("missing");
  EXPECT_EQ(error_code_of([&] { admin.describe_topic(missing); }), ErrorCode::kUnknownTopic);
  EXPECT_FALSE(contains(admin.list_topics(), missing)) << "describing must not create it";
  NewTopic request;
  request.name = unique_name("kept");
  admin.create_topic(request);
  try {
    admin.delete_topic(request.name);
    FAIL() << "expected kUnsupported";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kUnsupported);
    EXPECT_EQ(error.context().topic, request.name);
    EXPECT_NE(std::string(error.what()).find("embedded"), std::string::npos) << error.what();
  }
}

TEST(AdminEmbeddedTest, GroupLagFromCommittedOffsetsWithMetadata) {
  AdminClient admin(AdminOptions{});
  const auto topic = unique_name("lagging");
  NewTopic request;
  request.name = topic;
  request.partitions = 2;
  admin.create_topic(request);
  produce(ClusterOptions{}, topic, 0, 5);
  produce(ClusterOptions{}, topic, 1, 4);
  const auto group = unique_name("group");
  commit_offset(admin.cluster().bootstrap_servers, group, topic, 0, 3, "gaps:4");

  const auto lags = admin.group_lag(group, {topic});
  ASSERT_EQ(lags.size(), 2u);
  EXPECT_EQ(lags[0].topic_partition, (TopicPartition{topic, 0}));
  EXPECT_EQ(lags[0].committed_offset, 3);
  EXPECT_EQ(lags[0].committed_metadata, "gaps:4");
  EXPECT_EQ(lags[0].high_watermark, 5);
  EXPECT_EQ(lags[0].lag, 2);
  EXPECT_EQ(lags[1].topic_partition, (TopicPartition{topic, 1}));
  EXPECT_EQ(lags[1].committed_offset, std::nullopt);
  EXPECT_EQ(lags[1].high_watermark, 4);
  EXPECT_EQ(lags[1].lag, 4) << "without a commit every record counts";
  EXPECT_EQ(error_code_of([&] { admin.group_lag(group, {unique_name("nope")}); }),
            ErrorCode::kUnknownTopic);
}

// ListConsumerGroupOffsets would abort the process on the mock: Whippet must
// refuse before calling it, also when given the mock's address as brokers.
TEST(AdminEmbeddedTest, GroupLagWithoutTopicsIsUnsupportedOnTheMock) {
  AdminClient embedded(AdminOptions{});
  EXPECT_EQ(error_code_of([&] { embedded.group_lag("g", {}); }), ErrorCode::kUnsupported);
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  AdminOptions by_address;
  by_address.cluster.brokers = cluster.bootstrap_servers();
  AdminClient admin(by_address);
  EXPECT_FALSE(admin.cluster().is_embedded());
  EXPECT_EQ(error_code_of([&] { admin.group_lag("g", {}); }), ErrorCode::kUnsupported);
}

TEST(AdminEmbeddedTest, TopicsCanBeCreatedThroughTheMockAddress) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  AdminOptions by_address;
  by_address.cluster.brokers = cluster.bootstrap_servers();
  AdminClient admin(by_address);
  NewTopic request;
  request.name = unique_name("by-address");
  request.partitions = 2;
  admin.create_topic(request);
  EXPECT_EQ(admin.describe_topic(request.name).partitions.size(), 2u);
}

// Measured: the mock answers ListGroups with "unsupported feature" at once;
// Whippet then lists the groups its consumers noted.
TEST(AdminEmbeddedTest, ListGroupsAnswersWithNotedGroups) {
  AdminClient admin(AdminOptions{});
  const auto group = unique_name("noted");
  cluster::note_embedded_group(admin.cluster().bootstrap_servers, group);
  const auto started = Clock::now();
  const auto groups = admin.list_groups();
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_TRUE(std::any_of(groups.begin(), groups.end(),
                          [&](const GroupListing& listing) { return listing.group_id == group; }));
}

TEST(AdminWithoutClusterTest, UnreachableBrokerFailsWithinTheOperationTimeout) {
  AdminOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.operation_timeout = 1500ms;
  AdminClient admin(options);
  const auto started = Clock::now();
  try {
    admin.list_topics();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_TRUE(error.code() == ErrorCode::kBrokerUnreachable || error.code() == ErrorCode::kTimeout)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:1"), std::string::npos) << error.what();
  }
  EXPECT_LT(Clock::now() - started, 4s);
  NewTopic request;
  request.name = "t";
  const auto create_started = Clock::now();
  const auto code = error_code_of([&] { admin.create_topic(request); });
  EXPECT_TRUE(code == ErrorCode::kBrokerUnreachable || code == ErrorCode::kTimeout);
  EXPECT_LT(Clock::now() - create_started, 4s);
}

}  // namespace
}  // namespace whippet
