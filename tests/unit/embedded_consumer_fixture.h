#pragma once

// A fixture for consumer tests on the embedded (mock) cluster: a cluster of
// the test's own, a fresh topic, and consumer options tuned for quick tests.

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"

namespace whippet {

class EmbeddedConsumerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_options_.brokers = cluster_.bootstrap_servers();
    topic_ = testing::unique_name("orders");
    cluster_.create_topic(topic_, kPartitions);
  }

  ConsumerOptions options(const std::string& group) const {
    ConsumerOptions options;
    options.cluster = cluster_options_;
    options.group_id = group;
    options.topics = {topic_};
    options.initial_offset = InitialOffset::kEarliest;
    options.commit_interval = std::chrono::milliseconds(100);
    options.session_timeout = std::chrono::milliseconds(6000);
    return options;
  }

  std::map<int32_t, std::optional<int64_t>> committed(const std::string& group) const {
    AdminOptions admin_options;
    admin_options.cluster = cluster_options_;
    AdminClient admin(admin_options);
    std::map<int32_t, std::optional<int64_t>> result;
    for (const auto& lag : admin.group_lag(group, {topic_})) {
      result[lag.topic_partition.partition] = lag.committed_offset;
    }
    return result;
  }

  static constexpr int kPartitions = 4;
  EmbeddedCluster cluster_{EmbeddedCluster::Options{}};
  ClusterOptions cluster_options_;
  std::string topic_;
};

}  // namespace whippet
