// The outcome object the records of one delivery report share.

#include "producer/delivered_outcome.h"

#include <memory>

#include <gtest/gtest.h>

#include "kafka/client_config.h"
#include "kafka/handles.h"

namespace whippet {
namespace {

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

rd_kafka_message_t delivered(rd_kafka_topic_t* topic, int32_t partition, int64_t offset) {
  rd_kafka_message_t message{};
  message.rkt = topic;
  message.partition = partition;
  message.offset = offset;
  return message;
}

TEST(DeliveredOutcomeTest, EachCallDescribesItsOwnRecordAndTopic) {
  // A client with no brokers: topic handles need one, nothing is sent.
  auto client = kafka::create_client(RD_KAFKA_PRODUCER, kafka::build_conf({}, {}));
  TopicHandle orders(rd_kafka_topic_new(client.get(), "orders", nullptr));
  TopicHandle payments(rd_kafka_topic_new(client.get(), "payments", nullptr));
  producer::DeliveredOutcome outcome;

  const auto& first = outcome.describe(delivered(orders.get(), 2, 40), 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value().topic, "orders");
  EXPECT_EQ(first.value().partition, 2);
  EXPECT_EQ(first.value().offset, 40);
  EXPECT_EQ(first.value().timestamp, kafka::from_milliseconds(1000));

  const auto& second = outcome.describe(delivered(orders.get(), 3, 41), 2000);
  EXPECT_EQ(second.value().topic, "orders");
  EXPECT_EQ(second.value().partition, 3);
  EXPECT_EQ(second.value().offset, 41);

  const auto& other = outcome.describe(delivered(payments.get(), 0, 7), -1);
  EXPECT_EQ(other.value().topic, "payments") << "a new topic handle renames the outcome";
  EXPECT_EQ(other.value().offset, 7);
  EXPECT_EQ(other.value().timestamp, kafka::from_milliseconds(0)) << "no timestamp reads as 0";

  EXPECT_EQ(outcome.describe(delivered(orders.get(), 1, 42), 3000).value().topic, "orders");
}

}  // namespace
}  // namespace whippet
