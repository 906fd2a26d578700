#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "whippet/cluster.h"
#include "whippet/record.h"

namespace whippet {

struct NewTopic {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;  // e.g. retention.ms, cleanup.policy
};

struct PartitionDescription {
  int32_t partition = -1;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> in_sync_replicas;
  int64_t low_watermark = -1;   // first offset still stored
  int64_t high_watermark = -1;  // offset the next record will get
};

struct TopicDescription {
  std::string name;
  std::vector<PartitionDescription> partitions;
};

struct GroupListing {
  std::string group_id;
  std::string state;  // Stable, Empty, PreparingRebalance, ...; empty if unknown
  std::string protocol_type;
};

// A group's position in one partition and how far behind the end it is.
struct PartitionLag {
  TopicPartition topic_partition;
  std::optional<int64_t> committed_offset;  // none: the group never committed here
  std::string committed_metadata;
  int64_t high_watermark = -1;
  int64_t lag = 0;  // high watermark minus committed (all records when none)
};

struct AdminOptions {
  ClusterOptions cluster;
  // The longest any one admin request may take before kTimeout.
  std::chrono::milliseconds operation_timeout{15000};
};

// Topic and group administration. On the embedded cluster, topics are
// created through the mock's own API; group listing and group offsets are
// answered without the admin calls the mock lacks.
class AdminClient {
 public:
  explicit AdminClient(AdminOptions options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Throws whippet::Error; creating an existing topic is an error unless
  // if_not_exists is set.
  void create_topic(const NewTopic& topic, bool if_not_exists = false);
  void delete_topic(const std::string& name);
  std::vector<std::string> list_topics(bool include_internal = false);
  TopicDescription describe_topic(const std::string& name);
  std::vector<GroupListing> list_groups();

  // Committed offsets and lag of a group for every partition of `topics`;
  // with no topics, of every partition the group has committed to (real
  // clusters only: the embedded cluster needs the topics named).
  std::vector<PartitionLag> group_lag(const std::string& group_id,
                                      const std::vector<std::string>& topics);

  const ResolvedCluster& cluster() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet
