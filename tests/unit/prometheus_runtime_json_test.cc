// Runtime snapshots as JSON, the shape the control plane reads.

#include <gtest/gtest.h>

#include "whippet/runtime.h"

namespace whippet {
namespace {

TEST(RuntimeJsonTest, PartitionWithEveryOptionalSet) {
  PartitionSnapshot partition;
  partition.topic = "orders";
  partition.partition = 3;
  partition.queued = 5;
  partition.in_flight = 2;
  partition.in_progress_offset = 100;
  partition.in_progress_seconds = 1.5;
  partition.paused_seconds = 0.25;
  partition.blocked_offset = 99;
  partition.blocked_attempt = 4;
  partition.committed_offset = 98;
  partition.gaps = {101, 103};
  partition.high_watermark = 200;
  partition.lag = 102;
  partition.lag_seconds = 7.5;
  EXPECT_EQ(to_json(partition), nlohmann::json::parse(R"({
    "topic": "orders", "partition": 3, "queued": 5, "in_flight": 2,
    "in_progress_offset": 100, "in_progress_seconds": 1.5, "paused_seconds": 0.25,
    "blocked_offset": 99, "blocked_attempt": 4, "committed_offset": 98,
    "gaps": [101, 103], "high_watermark": 200, "lag": 102, "lag_seconds": 7.5
  })"));
}

TEST(RuntimeJsonTest, AbsentOptionalsAreNullAndNoGapsAnEmptyArray) {
  const auto json = to_json(PartitionSnapshot{});
  EXPECT_TRUE(json.at("in_progress_offset").is_null());
  EXPECT_TRUE(json.at("paused_seconds").is_null());
  EXPECT_TRUE(json.at("blocked_offset").is_null());
  EXPECT_TRUE(json.at("committed_offset").is_null());
  EXPECT_EQ(json.at("gaps"), nlohmann::json::array());
  EXPECT_EQ(json.at("partition"), -1);
  EXPECT_EQ(json.size(), 14u);
}

TEST(RuntimeJsonTest, ConsumerWithItsPartitions) {
  ConsumerSnapshot consumer;
  consumer.group = "billing";
  consumer.handler = "charge";
  consumer.topics = {"orders", "refunds"};
  consumer.topic_pattern = "^o.*";
  consumer.state = "running";
  consumer.error = "";
  consumer.records_handled = 10;
  consumer.handler_failures = 2;
  consumer.commits = 3;
  consumer.commit_failures = 1;
  consumer.rebalances = 4;
  PartitionSnapshot partition;
  partition.topic = "orders";
  partition.partition = 0;
  consumer.partitions = {partition};

  const auto json = to_json(consumer);
  EXPECT_EQ(json.at("group"), "billing");
  EXPECT_EQ(json.at("handler"), "charge");
  EXPECT_EQ(json.at("topics"), nlohmann::json::array({"orders", "refunds"}));
  EXPECT_EQ(json.at("topic_pattern"), "^o.*");
  EXPECT_EQ(json.at("state"), "running");
  EXPECT_EQ(json.at("error"), "");
  EXPECT_EQ(json.at("records_handled"), 10);
  EXPECT_EQ(json.at("handler_failures"), 2);
  EXPECT_EQ(json.at("commits"), 3);
  EXPECT_EQ(json.at("commit_failures"), 1);
  EXPECT_EQ(json.at("rebalances"), 4);
  ASSERT_EQ(json.at("partitions").size(), 1u);
  EXPECT_EQ(json.at("partitions")[0], to_json(partition));
  EXPECT_EQ(json.size(), 12u);
}

TEST(RuntimeJsonTest, ConsumerWithoutPartitionsHasAnEmptyArray) {
  EXPECT_EQ(to_json(ConsumerSnapshot{}).at("partitions"), nlohmann::json::array());
}

}  // namespace
}  // namespace whippet
