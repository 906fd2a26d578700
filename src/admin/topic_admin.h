#pragma once

// Topic administration: the Kafka admin API on real clusters, the mock's
// own API on the embedded cluster.

#include <string>
#include <vector>

#include "admin/admin_connection.h"

namespace whippet::admin {

void create_topic(AdminConnection& connection, const NewTopic& topic, bool if_not_exists);
void delete_topic(AdminConnection& connection, const std::string& name);
std::vector<std::string> list_topics(AdminConnection& connection, bool include_internal);

// Partitions with leaders, replicas and watermarks; kUnknownTopic if absent.
TopicDescription describe_topic(AdminConnection& connection, const std::string& name);

// The partition ids of `topic`, ascending; kUnknownTopic if absent.
std::vector<int32_t> partitions_of(AdminConnection& connection, const std::string& topic);

struct Watermarks {
  int64_t low = -1;
  int64_t high = -1;
};
Watermarks query_watermarks(AdminConnection& connection, const std::string& topic,
                            int32_t partition);

}  // namespace whippet::admin
