#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace whippet {

// librdkafka's built-in mock cluster, run in this process so that Whippet
// works with nothing installed. Other processes reach it at bootstrap_servers().
//
// What the embedded cluster cannot do (librdkafka 2.0.2's mock): the Kafka
// admin API's CreateTopics, CreatePartitions and DescribeConfigs time out,
// DescribeConsumerGroups is unsupported and ListConsumerGroupOffsets crashes,
// so Whippet creates topics through the mock's own API and answers group
// offset questions with committed() per partition instead. Each partition
// keeps only about 5 MB: older records silently disappear. Data lives in
// memory and is gone when the process exits.
class EmbeddedCluster {
 public:
  struct Options {
    int brokers = 1;
    // For topics auto-created by producers. librdkafka 2.0.2's mock fixes
    // this at 4; any other value is rejected with kUnsupported.
    int default_partitions = 4;
  };

  explicit EmbeddedCluster(Options options);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // The process-wide instance used when no brokers are configured; started
  // on first call, stopped when the last user releases it.
  static std::shared_ptr<EmbeddedCluster> shared();

  const std::string& bootstrap_servers() const;

  // Creates a topic through the mock's own API; throws whippet::Error on failure.
  void create_topic(const std::string& topic, int partitions, int replication_factor = 1);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet
