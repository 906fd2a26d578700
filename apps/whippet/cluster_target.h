#pragma once

#include <memory>
#include <string>

#include "whippet/config.h"
#include "whippet/embedded_cluster.h"

namespace whippet::cli {

struct GlobalOptions;

enum class ClusterKind {
  kConfigured,         // --brokers, WHIPPET_BROKERS or the config file named brokers
  kRunningEmbedded,    // a `whippet up` process found through its state file
  kInProcessEmbedded,  // nothing configured or running: a mock cluster in this process
};

struct ClusterTarget {
  ClusterKind kind = ClusterKind::kConfigured;
  std::string bootstrap_servers;
  std::string admin_url;  // the `whippet up` admin API; kRunningEmbedded only

  bool is_embedded() const { return kind != ClusterKind::kConfigured; }
  // "Kafka at h:9092", for messages and hints.
  std::string describe() const;
};

// Everything a command needs to reach its cluster: the effective
// configuration (file, then WHIPPET_* environment, then --brokers) with the
// brokers of the chosen target filled into every client's options.
struct CommandContext {
  WhippetConfig config;
  ClusterTarget target;
  // Keeps an in-process embedded cluster alive for the whole command, so
  // that the topics an admin client creates are still there for a producer.
  std::shared_ptr<EmbeddedCluster> in_process_cluster;
};

// Loads the configuration and decides which cluster to talk to. Warns on
// stderr when it has to start a cluster that vanishes with this process.
CommandContext make_command_context(const GlobalOptions& global);

// Fails fast with kBrokerUnreachable (within the admin request timeout) when
// configured brokers do not answer, where a producer would otherwise wait
// out its delivery timeout and a consumer would retry forever. Embedded
// targets were checked when they were found.
void ensure_reachable(const CommandContext& context);

}  // namespace whippet::cli
