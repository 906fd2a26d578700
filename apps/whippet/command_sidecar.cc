// `whippet sidecar`: libwhippet over gRPC for services in other languages
// (proto/whippet/v1/sidecar.proto; a Python client is in clients/python).

#include "commands.h"
#include "served_endpoint.h"
#include "sidecar_server.h"

namespace whippet::cli {
namespace {

struct SidecarCommandOptions {
  ServedEndpoint endpoint{"127.0.0.1:50051"};
  std::size_t max_in_flight = 256;
  int ack_deadline_ms = 30000;
  int drain_timeout_ms = 10000;
  std::size_t max_message_bytes = 0;
  std::size_t max_subscriptions = 256;
};

std::unique_ptr<sidecar::SidecarServer> start_sidecar(const SidecarCommandOptions& options,
                                                     const CommandContext& context) {
  sidecar::SidecarOptions sidecar_options;
  sidecar_options.listen_address = options.endpoint.listen;
  sidecar_options.config = context.config;
  sidecar_options.max_in_flight = options.max_in_flight;
  sidecar_options.ack_deadline = std::chrono::milliseconds(options.ack_deadline_ms);
  sidecar_options.drain_timeout = std::chrono::milliseconds(options.drain_timeout_ms);
  sidecar_options.max_message_bytes = options.max_message_bytes;
  sidecar_options.max_subscriptions = options.max_subscriptions;
  sidecar_options.metrics_http = options.endpoint.metrics_http();
  return std::make_unique<sidecar::SidecarServer>(std::move(sidecar_options));
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
  add_endpoint_options(*command, options->endpoint);
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
  command->callback([options, &state] {
    serve_until_stopped("sidecar", options->endpoint, state, [&](const CommandContext& context) {
      return start_sidecar(*options, context);
    });
  });
}

}  // namespace whippet::cli
