// The producer's failure modes against a real broker (auto-create off, as
// scripts/kafka configures it).

#include <chrono>
#include <future>

#include <gtest/gtest.h>

#include "support/expected_errors.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::error_of;

ProducerRecord record_for(const std::string& topic, std::string value) {
  ProducerRecord record;
  record.topic = topic;
  record.value = std::move(value);
  return record;
}

TEST(ProducerIntegrationTest, DeliversAndReportsWhereRecordsWent) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("produced");
  testing::create_topic(cluster, topic, 3);
  ProducerOptions options;
  options.cluster = cluster;
  Producer producer(options);
  ProducerRecord record = record_for(topic, "hello");
  record.partition = 2;
  const auto metadata = producer.send(record).get();
  EXPECT_EQ(metadata.topic, topic);
  EXPECT_EQ(metadata.partition, 2);
  EXPECT_EQ(metadata.offset, 0);
  EXPECT_GT(metadata.timestamp.time_since_epoch().count(), 0);
}

// The broker does not auto-create: the record must fail with kUnknownTopic
// after the bounded metadata wait (min(delivery_timeout, 10 s)), long
// before the 2-minute delivery timeout.
TEST(ProducerIntegrationTest, UnknownTopicFailsWithinTheMetadataWait) {
  WHIPPET_REQUIRE_BROKER();
  ProducerOptions options;
  options.cluster = testing::test_cluster_options();
  Producer producer(options);
  const auto topic = testing::unique_name("never-created");
  const auto started = Clock::now();
  auto future = producer.send(record_for(topic, "x"));
  ASSERT_EQ(future.wait_for(20s), std::future_status::ready);
  const auto error = error_of(future);
  EXPECT_EQ(error.code(), ErrorCode::kUnknownTopic) << error.what();
  EXPECT_EQ(error.context().topic, topic);
  EXPECT_NE(std::string(error.what()).find(topic), std::string::npos) << error.what();
  EXPECT_LT(Clock::now() - started, 15s);
}

// A record within the producer's limit but over the topic's
// max.message.bytes is refused by the broker.
TEST(ProducerIntegrationTest, RecordOverTheBrokerLimitIsRecordTooLarge) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("small-records");
  AdminOptions admin_options;
  admin_options.cluster = cluster;
  AdminClient admin(admin_options);
  NewTopic request;
  request.name = topic;
  request.configs["max.message.bytes"] = "10000";
  admin.create_topic(request);
  ProducerOptions options;
  options.cluster = cluster;
  options.delivery_timeout = 30s;
  Producer producer(options);
  auto future = producer.send(record_for(topic, std::string(50000, 'x')));
  ASSERT_EQ(future.wait_for(30s), std::future_status::ready);
  const auto error = error_of(future);
  EXPECT_EQ(error.code(), ErrorCode::kRecordTooLarge) << error.what();
  EXPECT_NE(std::string(error.what()).find(topic), std::string::npos) << error.what();
  EXPECT_NO_THROW(producer.send(record_for(topic, "small")).get());
}

TEST(ProducerIntegrationTest, UnreachableBrokerFailsWithinDeliveryTimeout) {
  ProducerOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.delivery_timeout = 3s;
  Producer producer(options);
  const auto started = Clock::now();
  auto future = producer.send(record_for("anywhere", "x"));
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const auto error = error_of(future);
  EXPECT_TRUE(error.code() == ErrorCode::kBrokerUnreachable || error.code() == ErrorCode::kTimeout)
      << error.what();
  EXPECT_LT(Clock::now() - started, 3s + 2s);
}

}  // namespace
}  // namespace whippet
