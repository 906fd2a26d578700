// `whippet fanout`: the fan-out proxy (proto/whippet/v1/fanout.proto). Each
// topic is read from Kafka once and pushed to every subscriber stream.

#include "commands.h"
#include "fanout_server.h"
#include "served_endpoint.h"

namespace whippet::cli {
namespace {

struct FanoutCommandOptions {
  ServedEndpoint endpoint{"127.0.0.1:50061"};
  std::string group_prefix = "whippet-fanout";
  std::string proxy_id;
  std::size_t buffer_records = 20000;
  std::size_t buffer_megabytes = 32;
  std::string slow_subscribers = "read-privately";
  std::size_t max_in_flight = 1000;
  int ack_deadline_ms = 30000;
  std::size_t max_subscribers = 256;
  int commit_interval_ms = 1000;
  int session_timeout_ms = 10000;
};

fanout::FanoutOptions to_fanout_options(const FanoutCommandOptions& options,
                                        const CommandContext& context) {
  fanout::FanoutOptions fanout_options;
  fanout_options.listen_address = options.endpoint.listen;
  fanout_options.cluster = context.config.cluster;
  fanout_options.group_prefix = options.group_prefix;
  fanout_options.proxy_id = options.proxy_id;
  fanout_options.buffer.max_records = options.buffer_records;
  fanout_options.buffer.max_bytes = options.buffer_megabytes * 1024 * 1024;
  fanout_options.slow_subscribers = options.slow_subscribers == "cut-off"
                                        ? fanout::SlowSubscriberPolicy::kCutOff
                                        : fanout::SlowSubscriberPolicy::kReadPrivately;
  fanout_options.max_in_flight = options.max_in_flight;
  fanout_options.ack_deadline = std::chrono::milliseconds(options.ack_deadline_ms);
  fanout_options.max_subscribers = options.max_subscribers;
  fanout_options.commit_interval = std::chrono::milliseconds(options.commit_interval_ms);
  fanout_options.session_timeout = std::chrono::milliseconds(options.session_timeout_ms);
  fanout_options.metrics_http = options.endpoint.metrics_http();
  return fanout_options;
}

}  // namespace

void add_fanout_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<FanoutCommandOptions>();
  auto* command = app.add_subcommand(
      "fanout",
      "Serve the fan-out proxy (whippet.v1 FanoutService and grpc.health.v1) until Ctrl-C or "
      "SIGTERM: each topic is read from Kafka once and pushed to every subscriber; a "
      "subscriber's acknowledged positions are committed to its own consumer group. Run "
      "several with the same --group-prefix to split the partitions between them.");
  add_endpoint_options(*command, options->endpoint);
  command->add_option("--group-prefix", options->group_prefix,
                      "Consumer groups: <prefix>:<topic> for the proxies, "
                      "<prefix>:<topic>:<subscriber> for each subscriber's positions")
      ->capture_default_str();
  command->add_option("--proxy-id", options->proxy_id,
                      "Name of this instance in sessions and logs (default: host-pid)");
  command->add_option("--buffer-records", options->buffer_records,
                      "Shared buffer per partition, in records")
      ->check(CLI::Range(100, 10000000))
      ->capture_default_str();
  command->add_option("--buffer-megabytes", options->buffer_megabytes,
                      "Shared buffer per partition, in MiB of keys, values and headers")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  command->add_option("--slow-subscribers", options->slow_subscribers,
                      "What happens to a subscriber that falls out of the shared buffer: "
                      "read-privately (its own reader until it catches up) or cut-off (its "
                      "stream ends with ABORTED)")
      ->check(CLI::IsMember({"read-privately", "cut-off"}))
      ->capture_default_str();
  command->add_option("--max-in-flight", options->max_in_flight,
                      "Unacknowledged records per subscriber, when it does not say")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  command->add_option("--ack-deadline-ms", options->ack_deadline_ms,
                      "A record unacknowledged this long is pushed again, when the subscriber "
                      "does not say")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  command->add_option("--max-subscribers", options->max_subscribers,
                      "Subscriber streams served at once; more are refused")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  command->add_option("--commit-interval-ms", options->commit_interval_ms,
                      "How often acknowledged positions are committed")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  command->add_option("--session-timeout-ms", options->session_timeout_ms,
                      "How long the proxy group waits for a silent instance before moving "
                      "its partitions to the others")
      ->check(CLI::Range(1000, 300000))
      ->capture_default_str();
  command->footer(with_global_options(
      "Examples:\n"
      "  whippet fanout                                   # embedded cluster, 127.0.0.1:50061\n"
      "  whippet --brokers kafka:9092 fanout --listen 127.0.0.1:0 --metrics-port 9401\n"
      "  whippet --brokers kafka:9092 fanout --proxy-id fanout-b --listen 127.0.0.1:50062"));
  command->callback([options, &state] {
    serve_until_stopped("fanout", options->endpoint, state, [&](const CommandContext& context) {
      return std::make_unique<fanout::FanoutServer>(to_fanout_options(*options, context));
    });
  });
}

}  // namespace whippet::cli
