#pragma once

// The one place where Whippet's typed options become librdkafka properties.

#include <map>
#include <string>

#include "kafka/handles.h"
#include "whippet/cluster.h"

namespace whippet::kafka {

using Properties = std::map<std::string, std::string>;

// Properties every client gets from the cluster options: bootstrap servers,
// client id, timeouts, and logging routed to spdlog.
Properties cluster_properties(const ResolvedCluster& cluster, const ClusterOptions& options);

// What every consumer Whippet makes shares: the cluster's properties, its
// group, offsets committed only explicitly, and fetching tuned for
// librdkafka 2.0.2 (see the comments in client_config.cc).
Properties consumer_base_properties(const ResolvedCluster& cluster, const ClusterOptions& options,
                                    const std::string& group_id);

// Builds a conf from `properties`, then the caller-provided raw overrides.
// Throws Error(kInvalidConfig) naming the property that librdkafka rejected.
ConfHandle build_conf(const Properties& properties, const Properties& overrides);

// Creates a client of `type`; owns `conf` from then on.
KafkaHandle create_client(rd_kafka_type_t type, ConfHandle conf);

}  // namespace whippet::kafka
