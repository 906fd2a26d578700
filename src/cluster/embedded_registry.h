#pragma once

// The embedded clusters alive in this process, by bootstrap address. Lets a
// client given a mock cluster's address as plain brokers (as tests and
// `whippet up` do) still avoid the admin calls the mock lacks, and lets
// consumers record their groups, which the mock cannot list.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace whippet {
class EmbeddedCluster;
}

namespace whippet::cluster {

void register_embedded(const std::string& bootstrap_servers, EmbeddedCluster& cluster,
                       rd_kafka_mock_cluster_t* mock);
void unregister_embedded(const std::string& bootstrap_servers);

// True when `bootstrap_servers` is the address of a live embedded cluster.
bool is_embedded_address(const std::string& bootstrap_servers);

// Creates a topic on the live embedded cluster at that address. Returns
// false when there is none; throws what EmbeddedCluster::create_topic throws.
bool create_embedded_topic(const std::string& bootstrap_servers, const std::string& topic,
                           int partitions, int replication_factor);

// Runs `action` on the mock behind the live embedded cluster at that
// address, e.g. to inject errors in tests (rd_kafka_mock_topic_set_error,
// rd_kafka_mock_broker_set_down). Returns false when there is none.
bool with_mock_cluster(const std::string& bootstrap_servers,
                       const std::function<void(rd_kafka_mock_cluster_t*)>& action);

// Records that `group` consumes from the embedded cluster at that address
// (a no-op for any other address). Consumers call it on start.
void note_embedded_group(const std::string& bootstrap_servers, const std::string& group);

// The groups noted for the embedded cluster at that address, sorted; none
// when the address is not a live embedded cluster.
std::optional<std::vector<std::string>> embedded_groups(const std::string& bootstrap_servers);

}  // namespace whippet::cluster
