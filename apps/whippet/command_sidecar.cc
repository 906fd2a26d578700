// `whippet sidecar`: libwhippet over gRPC for services in other languages
// (proto/whippet/v1/sidecar.proto; a Python client is in clients/python).

#include <iostream>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "cluster_target.h"
#include "commands.h"
#include "shutdown_signals.h"
#include "sidecar_server.h"

namespace whippet::cli {
namespace {

struct SidecarCommandOptions {
  std::string listen = "127.0.0.1:50051";
  std::optional<int> metrics_port;
  std::string metrics_host = "127.0.0.1";
  std::size_t max_in_flight = 256;
  int ack_deadline_ms = 30000;
  int drain_timeout_ms = 10000;
  std::size_t max_message_bytes = 0;
  std::size_t max_subscriptions = 256;
};

void run_sidecar(const SidecarCommandOptions& options, CliState& state) {
  StopRequest stop;
  ShutdownSignals signals(stop);  // before any thread starts
  auto context = make_command_context(state.global);
  state.target = context.target;
  ensure_reachable(context);

  sidecar::SidecarOptions sidecar_options;
  sidecar_options.listen_address = options.listen;
  sidecar_options.config = context.config;
  sidecar_options.max_in_flight = options.max_in_flight;
  sidecar_options.ack_deadline = std::chrono::milliseconds(options.ack_deadline_ms);
  sidecar_options.drain_timeout = std::chrono::milliseconds(options.drain_timeout_ms);
  sidecar_options.max_message_bytes = options.max_message_bytes;
  sidecar_options.max_subscriptions = options.max_subscriptions;
  if (options.metrics_port) {
    sidecar_options.metrics_http =
        metrics::MetricsHttpServerOptions{options.metrics_host, *options.metrics_port};
  }
  sidecar::SidecarServer server(std::move(sidecar_options));
  const auto host = options.listen.substr(0, options.listen.rfind(':'));
  // Scripts and tests wait for this line: keep its form.
  std::cout << "sidecar: listening on " << host << ":" << server.port() << "\n";
  if (!server.metrics_url().empty()) {
    std::cout << "sidecar: metrics on " << server.metrics_url() << "/metrics\n";
  }
  std::cout << "sidecar: " << context.target.describe() << "\n" << std::flush;
  stop.wait();
  fmt::print(stderr, "whippet sidecar: stopping: {}\n", stop.reason());
  server.shutdown();
}

}  // namespace

void add_sidecar_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<SidecarCommandOptions>();
  auto* command = app.add_subcommand(
      "sidecar",
      "Serve libwhippet over gRPC (whippet.v1 ProducerService, ConsumerService, AdminService and "
      "grpc.health.v1) until Ctrl-C or SIGTERM, which drains: clients get --drain-timeout to "
      "answer the records they hold, answered records are committed, the rest go to the group's "
      "next client.");
  command->add_option("--listen", options->listen,
                      "host:port to serve gRPC on (port 0: any free port, printed at start)")
      ->capture_default_str();
  command->add_option("--metrics-port", options->metrics_port,
                      "Serve Prometheus /metrics on this port (0: any free port); off by default")
      ->check(CLI::Range(0, 65535));
  command->add_option("--metrics-host", options->metrics_host,
                      "Address the metrics endpoint binds to")
      ->capture_default_str();
  command->add_option("--max-in-flight", options->max_in_flight,
                      "Records pushed and unanswered per subscription, when it does not say")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  command->add_option("--ack-deadline-ms", options->ack_deadline_ms,
                      "A record unanswered this long counts as failed, when the subscription "
                      "does not say")
      ->check(CLI::Range(1, 86400000))
      ->capture_default_str();
  command->add_option("--drain-timeout-ms", options->drain_timeout_ms,
                      "On shutdown, how long clients get to answer what they hold")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  command->add_option("--max-message-bytes", options->max_message_bytes,
                      "Largest gRPC request accepted (0: the producer's max_record_bytes + 1 MiB)")
      ->capture_default_str();
  command->add_option("--max-subscriptions", options->max_subscriptions,
                      "Consume streams served at once; more are refused")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  command->footer(with_global_options(
      "Examples:\n"
      "  whippet sidecar                                  # embedded cluster, 127.0.0.1:50051\n"
      "  whippet --brokers kafka:9092 sidecar --listen 127.0.0.1:0 --metrics-port 9400\n"
      "  whippet --config whippet.yaml sidecar            # producer/consumer defaults from YAML"));
  command->callback([options, &state] { run_sidecar(*options, state); });
}

}  // namespace whippet::cli
