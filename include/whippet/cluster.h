#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace whippet {

class EmbeddedCluster;

// How to reach a Kafka cluster. Shared by producers, consumers and admin.
struct ClusterOptions {
  // Comma-separated bootstrap brokers ("host:port,host:port"). Empty means the
  // embedded cluster: librdkafka's in-process mock, started on first use.
  // Environment override: WHIPPET_BROKERS.
  std::string brokers;

  // Sent to the brokers for quotas and logs. Environment: WHIPPET_CLIENT_ID.
  std::string client_id = "whippet";

  // How long to wait for cluster metadata (and admin requests) before
  // reporting the cluster unreachable.
  std::chrono::milliseconds request_timeout{10000};

  // Raw librdkafka properties applied last, overriding everything Whippet
  // derives. For settings Whippet does not model; prefer the typed options.
  std::map<std::string, std::string> librdkafka_properties;
};

// The outcome of resolving ClusterOptions: an address to connect to, and the
// embedded cluster kept alive for as long as a client uses it.
struct ResolvedCluster {
  std::string bootstrap_servers;
  std::shared_ptr<EmbeddedCluster> embedded;  // null for a real cluster

  bool is_embedded() const { return embedded != nullptr; }
};

// Connects to the configured brokers, or to the process-wide embedded
// cluster (starting it, and logging its address, on first use).
ResolvedCluster resolve_cluster(const ClusterOptions& options);

}  // namespace whippet
