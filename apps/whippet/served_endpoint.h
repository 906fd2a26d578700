#pragma once

// What the commands serving gRPC (sidecar, fanout) share: the address and
// metrics options, and the run until SIGTERM with the lines scripts wait for.

#include <fmt/core.h>

#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_state.h"
#include "cluster_target.h"
#include "shutdown_signals.h"
#include "whippet/prometheus.h"

namespace whippet::cli {

struct ServedEndpoint {
  explicit ServedEndpoint(std::string default_listen) : listen(std::move(default_listen)) {}

  std::string listen;
  std::optional<int> metrics_port;
  std::string metrics_host = "127.0.0.1";

  std::optional<metrics::MetricsHttpServerOptions> metrics_http() const;
};

// --listen, --metrics-port and --metrics-host.
void add_endpoint_options(CLI::App& command, ServedEndpoint& endpoint);

// "<name>: listening on H:P" (scripts and tests wait for this line: keep its
// form), the metrics URL when there is one, and the Kafka cluster.
void announce(const std::string& name, const ServedEndpoint& endpoint, int port,
              const std::string& metrics_url, const ClusterTarget& target);

// Starts the server `start(context)` returns once the cluster answers,
// announces it, and shuts it down on SIGTERM or Ctrl-C.
template <class Start>
void serve_until_stopped(const std::string& name, const ServedEndpoint& endpoint,
                         CliState& state, Start start) {
  StopRequest stop;
  ShutdownSignals signals(stop);  // before any thread starts
  auto context = make_command_context(state.global);
  state.target = context.target;
  ensure_reachable(context);
  auto server = start(context);
  announce(name, endpoint, server->port(), server->metrics_url(), context.target);
  stop.wait();
  fmt::print(stderr, "whippet {}: stopping: {}\n", name, stop.reason());
  server->shutdown();
}

}  // namespace whippet::cli
