#include <chrono>
#include <future>

#include <gtest/gtest.h>

#include "cluster/embedded_registry.h"
#include "kafka_test_helpers.h"
#include "whippet/admin.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::read_records;
using testing::unique_name;

ProducerOptions producer_options(const std::string& brokers) {
  ProducerOptions options;
  options.cluster.brokers = brokers;
  options.delivery_timeout = 10s;
  return options;
}

TEST(EmbeddedClusterTest, StartsAndListensOnLoopback) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  EXPECT_NE(cluster.bootstrap_servers().find("127.0.0.1:"), std::string::npos)
      << cluster.bootstrap_servers();
  EXPECT_TRUE(cluster::is_embedded_address(cluster.bootstrap_servers()));
}

TEST(EmbeddedClusterTest, ForgetsItsAddressWhenStopped) {
  std::string address;
  {
    EmbeddedCluster cluster(EmbeddedCluster::Options{});
    address = cluster.bootstrap_servers();
  }
  EXPECT_FALSE(cluster::is_embedded_address(address));
}

TEST(EmbeddedClusterTest, RejectsADefaultPartitionCountTheMockCannotHonour) {
  EmbeddedCluster::Options options;
  options.default_partitions = 3;
  try {
    EmbeddedCluster cluster(options);
    FAIL() << "expected kUnsupported";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(error.what()).find("4 partitions"), std::string::npos) << error.what();
  }
}

TEST(EmbeddedClusterTest, SharedInstanceLivesWhileUsedAndRestartsAfterwards) {
  auto first = EmbeddedCluster::shared();
  auto second = EmbeddedCluster::shared();
  EXPECT_EQ(first.get(), second.get());
  const auto address = first->bootstrap_servers();
  first.reset();
  second.reset();
  EXPECT_FALSE(cluster::is_embedded_address(address));
  auto third = EmbeddedCluster::shared();
  EXPECT_TRUE(cluster::is_embedded_address(third->bootstrap_servers()));
}

TEST(EmbeddedClusterTest, ResolveClusterUsesTheSharedInstanceOnlyWithoutBrokers) {
  const auto embedded = resolve_cluster(ClusterOptions{});
  EXPECT_TRUE(embedded.is_embedded());
  EXPECT_EQ(embedded.bootstrap_servers, embedded.embedded->bootstrap_servers());
  ClusterOptions real;
  real.brokers = "kafka-1:9092,kafka-2:9092";
  const auto resolved = resolve_cluster(real);
  EXPECT_FALSE(resolved.is_embedded());
  EXPECT_EQ(resolved.bootstrap_servers, "kafka-1:9092,kafka-2:9092");
}

TEST(EmbeddedClusterTest, CreateTopicThenProduceAndReadBack) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  const auto topic = unique_name("created");
  cluster.create_topic(topic, 3);
  constexpr int kRecords = 300;
  {
    Producer producer(producer_options(cluster.bootstrap_servers()));
    std::vector<std::future<RecordMetadata>> futures;
    for (int index = 0; index < kRecords; ++index) {
      ProducerRecord record;
      record.topic = topic;
      record.key = "key-" + std::to_string(index % 10);
      record.value = "value-" + std::to_string(index);
      futures.push_back(producer.send(std::move(record)));
    }
    for (auto& future : futures) {
      const auto metadata = future.get();
      EXPECT_EQ(metadata.topic, topic);
      EXPECT_GE(metadata.partition, 0);
      EXPECT_LT(metadata.partition, 3);
      EXPECT_GE(metadata.offset, 0);
    }
  }
  const auto records = read_records(cluster.bootstrap_servers(), topic, 3, kRecords, 20s);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kRecords));
  std::set<std::string> values;
  for (const auto& record : records) values.insert(*record.value);
  EXPECT_EQ(values.size(), static_cast<std::size_t>(kRecords));
}

TEST(EmbeddedClusterTest, CreatingAnExistingTopicFails) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  const auto topic = unique_name("twice");
  cluster.create_topic(topic, 1);
  EXPECT_THROW(cluster.create_topic(topic, 1), Error);
  EXPECT_THROW(cluster.create_topic(unique_name("bad"), 0), Error);
}

// Measured: librdkafka 2.0.2's mock creates a topic that a producer sends
// to, with 4 partitions (hence Options::default_partitions = 4).
TEST(EmbeddedClusterTest, AutoCreatesUnknownTopicsWithFourPartitions) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  const auto topic = unique_name("auto");
  Producer producer(producer_options(cluster.bootstrap_servers()));
  ProducerRecord record;
  record.topic = topic;
  record.value = "x";
  const auto metadata = producer.send(std::move(record)).get();
  EXPECT_EQ(metadata.topic, topic);
  AdminOptions admin_options;
  admin_options.cluster.brokers = cluster.bootstrap_servers();
  AdminClient admin(admin_options);
  EXPECT_EQ(admin.describe_topic(topic).partitions.size(),
            static_cast<std::size_t>(EmbeddedCluster::Options{}.default_partitions));
}

}  // namespace
}  // namespace whippet
