#include "cluster_target.h"

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "cli_state.h"
#include "embedded_state.h"

namespace whippet::cli {
namespace {

WhippetConfig load_effective_config(const GlobalOptions& global) {
  auto config = global.config_file.empty() ? WhippetConfig{} : load_config(global.config_file);
  apply_environment(config);
  if (!global.brokers.empty()) config.cluster.brokers = global.brokers;
  return config;
}

// The YAML file has one cluster section; every client uses it.
void share_cluster_options(WhippetConfig& config) {
  config.producer.cluster = config.cluster;
  config.consumer.cluster = config.cluster;
  config.admin.cluster = config.cluster;
}

}  // namespace

std::string ClusterTarget::describe() const {
  switch (kind) {
    case ClusterKind::kConfigured:
      return "Kafka at " + bootstrap_servers;
    case ClusterKind::kRunningEmbedded:
      return "the `whippet up` embedded cluster at " + bootstrap_servers;
    case ClusterKind::kInProcessEmbedded:
      return "an embedded cluster inside this command";
  }
  return bootstrap_servers;
}

CommandContext make_command_context(const GlobalOptions& global) {
  CommandContext context;
  context.config = load_effective_config(global);
  auto& brokers = context.config.cluster.brokers;
  auto& target = context.target;
  if (!brokers.empty()) {
    target.bootstrap_servers = brokers;
    // WHIPPET_BROKERS may name a `whippet up` cluster (its banner suggests
    // exactly that); recognising it routes topic creation to its admin API.
    const auto state = read_embedded_state();
    if (state && state->bootstrap_servers == brokers) {
      if (const auto running = find_running_embedded_cluster()) {
        target.kind = ClusterKind::kRunningEmbedded;
        target.admin_url = running->admin_url;
      }
    }
  } else if (const auto running = find_running_embedded_cluster()) {
    spdlog::info("using the `whippet up` cluster at {} (state file {})",
                 running->bootstrap_servers, embedded_state_path().string());
    brokers = running->bootstrap_servers;
    target = {ClusterKind::kRunningEmbedded, running->bootstrap_servers, running->admin_url};
  } else {
    // Brokers stay empty: every client of this command then resolves to the
    // same process-wide embedded cluster, which this context keeps alive.
    context.in_process_cluster = EmbeddedCluster::shared();
    target = {ClusterKind::kInProcessEmbedded, context.in_process_cluster->bootstrap_servers(), ""};
    fmt::print(stderr,
               "whippet: warning: no --brokers, WHIPPET_BROKERS or running `whippet up`: using an "
               "embedded cluster inside this command ({}); it and its data disappear when the "
               "command exits\n",
               target.bootstrap_servers);
  }
  share_cluster_options(context.config);
  return context;
}

void ensure_reachable(const CommandContext& context) {
  if (context.target.kind != ClusterKind::kConfigured) return;
  auto options = context.config.admin;
  options.operation_timeout = context.config.cluster.request_timeout;
  try {
    AdminClient(options).list_topics();
  } catch (const Error& error) {
    throw Error(error.code(), context.target.describe() + " does not answer: " + error.what(),
                error.context(), error.retriable());
  }
}

}  // namespace whippet::cli
