// `whippet up`: an embedded Kafka cluster (librdkafka's mock) in this
// process, findable by other whippet commands through a state file, with a
// small admin API for what the mock cannot do over the Kafka protocol.

#include <unistd.h>

#include <iostream>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "admin_api_server.h"
#include "argument_parsing.h"
#include "commands.h"
#include "embedded_state.h"
#include "shutdown_signals.h"
#include "whippet/embedded_cluster.h"

namespace whippet::cli {
namespace {

struct UpOptions {
  std::vector<std::string> topics;
  int admin_port = 0;
  double run_seconds = 0;  // 0: until a signal
};

// Removes the state file however `up` ends, so that no command is sent to a
// cluster that is gone.
struct StateFileGuard {
  ~StateFileGuard() { remove_embedded_state(getpid()); }
};

std::string banner(const EmbeddedState& state, const std::vector<TopicSpec>& topics) {
  std::string topic_lines;
  for (const auto& topic : topics) {
    topic_lines += fmt::format("\n  topic       {} ({} partition(s))", topic.name, topic.partitions);
  }
  return fmt::format(
      "Whippet embedded Kafka cluster is up (librdkafka mock, 1 broker, pid {})\n"
      "\n"
      "  bootstrap   {}\n"
      "  admin API   {}  (GET /healthz, GET|POST /v1/topics, GET /v1/groups)\n"
      "  state file  {}{}\n"
      "\n"
      "Use it from another terminal (whippet commands find it through the state file):\n"
      "  whippet topics list\n"
      "  whippet produce orders --count 10\n"
      "  whippet consume orders --from earliest --max 10\n"
      "  export WHIPPET_BROKERS={}    # for scripts and other Kafka clients\n"
      "\n"
      "What embedded mode cannot do (librdkafka 2.0.2's mock):\n"
      "  - the Kafka admin API's CreateTopics, CreatePartitions and DescribeConfigs time out;\n"
      "    whippet creates topics through the mock's own API (`whippet topics create` uses the\n"
      "    admin API above), and topics cannot get configs or more partitions\n"
      "  - DescribeConsumerGroups is unsupported; group lag is read per partition instead\n"
      "  - each partition keeps only about 5 MB: older records silently disappear\n"
      "  - data lives in memory only and is gone when this process exits\n"
      "\n"
      "Stop with Ctrl-C or SIGTERM.\n",
      state.pid, state.bootstrap_servers, state.admin_url, embedded_state_path().string(),
      topic_lines, state.bootstrap_servers);
}

void run_up(const UpOptions& options, CliState& state) {
  if (!state.global.brokers.empty()) {
    spdlog::warn("--brokers is ignored: `whippet up` runs its own cluster");
  }
  std::vector<TopicSpec> topics;
  for (const auto& text : options.topics) topics.push_back(parse_topic_spec(text, 1));
  if (const auto running = find_running_embedded_cluster()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("a `whippet up` is already running (pid {}, bootstrap {}); stop it "
                            "first, or set WHIPPET_HOME to another folder to run a second one",
                            running->pid, running->bootstrap_servers));
  }

  StopRequest stop;
  ShutdownSignals signals(stop);  // before the cluster and the server start their threads
  const auto cluster = EmbeddedCluster::shared();
  state.target = ClusterTarget{ClusterKind::kInProcessEmbedded, cluster->bootstrap_servers(), ""};
  for (const auto& topic : topics) cluster->create_topic(topic.name, topic.partitions);
  AdminApiServer server(cluster, options.admin_port);

  const EmbeddedState published{cluster->bootstrap_servers(), server.url(), getpid()};
  StateFileGuard state_file_guard;
  write_embedded_state(published);
  std::cout << banner(published, topics) << std::flush;

  if (options.run_seconds > 0) {
    const auto duration = std::chrono::duration<double>(options.run_seconds);
    if (!stop.wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(duration))) {
      stop.request(fmt::format("--for {} seconds elapsed", options.run_seconds));
    }
  } else {
    stop.wait();
  }
  fmt::print(stderr, "whippet up: stopping: {}; the cluster and its data are gone\n",
             stop.reason());
}

}  // namespace

void add_up_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<UpOptions>();
  auto* command = app.add_subcommand(
      "up",
      "Run an embedded Kafka cluster (librdkafka's mock) in this process until Ctrl-C. Other "
      "whippet commands find it through ${WHIPPET_HOME:-~/.cache/whippet}/embedded.json; any Kafka "
      "client can use its bootstrap address.");
  command->add_option("--topic", options->topics,
                      "Create a topic at start, NAME or NAME:PARTITIONS (default 1 partition); "
                      "repeatable")
      ->check(topic_spec_form());
  command->add_option("--admin-port", options->admin_port,
                      "Port of the loopback admin API (0: any free port)")
      ->check(CLI::Range(0, 65535));
  command->add_option("--for", options->run_seconds, "Stop after SECONDS instead of at Ctrl-C")
      ->check(CLI::PositiveNumber);
  command->footer(with_global_options(
      "Examples:\n"
      "  whippet up --topic orders:4 --topic payments\n"
      "  whippet up --admin-port 8089 --for 600\n"
      "  WHIPPET_HOME=/tmp/w1 whippet up     # a second, independent cluster"));
  command->callback([options, &state] { run_up(*options, state); });
}

}  // namespace whippet::cli
