// `whippet consume TOPIC...`: prints records as a consumer group member,
// with whippet::Consumer, until --max records, --timeout idle or Ctrl-C.

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "admin_api_client.h"
#include "commands.h"
#include "record_format.h"
#include "shutdown_signals.h"
#include "whippet/consumer.h"

namespace whippet::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kCommitMargin = std::chrono::milliseconds(250);
constexpr auto kEmbeddedSessionTimeout = std::chrono::milliseconds(6000);
// Joins take about 3 s (the broker's initial rebalance delay), on Kafka and
// on the embedded cluster, and up to its session timeout when the embedded
// cluster waits for departed members (see kEmbeddedSessionTimeout).
constexpr auto kJoinAllowance = std::chrono::milliseconds(8000);

struct ConsumeOptions {
  std::vector<std::string> topics;
  std::string pattern;
  std::string group;
  std::string from;  // empty: the configured initial offset (default latest)
  std::size_t max_records = 0;
  double idle_seconds = 0;
  std::string format = "text";
};

// Prints records from the consumer's worker threads, one line at a time.
class RecordPrinter {
 public:
  RecordPrinter(OutputFormat format, std::size_t max_records, std::chrono::milliseconds hold_limit,
                StopRequest& stop)
      : format_(format), max_records_(max_records), hold_limit_(hold_limit), stop_(stop) {}

  void handle(const Record& record) {
    {
      std::lock_guard lock(mutex_);
      last_activity_ = Clock::now();
      if (max_records_ == 0 || printed_ < max_records_) {
        std::fputs((format_record(record, format_) + "\n").c_str(), stdout);
        std::fflush(stdout);
        ++printed_;
        partitions_.insert({record.topic, record.partition});
        if (printed_ == max_records_) stop_.request(fmt::format("--max {} reached", max_records_));
        return;
      }
    }
    hold_unprinted_record();
  }

  std::size_t printed() const {
    std::lock_guard lock(mutex_);
    return printed_;
  }
  // When the consumer last received a record, or became able to.
  Clock::time_point last_activity() const {
    std::lock_guard lock(mutex_);
    return last_activity_;
  }
  void mark_activity() {
    std::lock_guard lock(mutex_);
    last_activity_ = Clock::now();
  }
  std::string partitions() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const auto& partition : partitions_) {
      text += (text.empty() ? "" : ", ") + partition.topic + "/" +
              std::to_string(partition.partition);
    }
    return text;
  }

  bool holding() const { return holding_.load(); }

 private:
  // A record past --max was not shown, so it must not be committed either,
  // or the group would skip it next time. Returning from the handler would
  // mark it handled; instead it stays in flight until the consumer has
  // closed without waiting for it, which commits nothing past it. The limit
  // is longer than run_consume takes to close.
  void hold_unprinted_record() {
    holding_.store(true);
    std::unique_lock lock(hold_mutex_);
    hold_released_.wait_for(lock, hold_limit_);
  }

  const OutputFormat format_;
  const std::size_t max_records_;
  const std::chrono::milliseconds hold_limit_;
  StopRequest& stop_;
  std::atomic<bool> holding_{false};
  mutable std::mutex mutex_;
  std::size_t printed_ = 0;
  // Before the first assignment, as if a record came once a group join
  // should be done: an idle --timeout then never ends a consumer that is
  // still joining, yet ends one whose topics do not exist.
  Clock::time_point last_activity_ = Clock::now() + kJoinAllowance;
  std::set<TopicPartition> partitions_;
  std::mutex hold_mutex_;
  std::condition_variable hold_released_;
};

std::string generated_group_id() {
  std::random_device random;
  return fmt::format("whippet-cli-{:08x}", random());
}

// Waits for a stop: a signal, --max, --timeout idle, or a failed consumer.
void wait_until_done(const ConsumeOptions& options, const Consumer& consumer,
                     RecordPrinter& printer, StopRequest& stop) {
  // The consumer has no failure callback, so the wait wakes up at least this
  // often to ask it.
  constexpr auto kFailureCheck = std::chrono::milliseconds(500);
  const auto idle_limit = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(options.idle_seconds));
  bool assigned = false;
  while (!stop.requested()) {
    auto wait = kFailureCheck;
    if (options.idle_seconds > 0) {
      const auto idle_deadline = printer.last_activity() + idle_limit;
      if (Clock::now() >= idle_deadline) {
        stop.request(fmt::format("idle for --timeout {} seconds", options.idle_seconds));
        break;
      }
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                idle_deadline - Clock::now()) +
                                std::chrono::milliseconds(1));
    }
    if (stop.wait_for(wait)) break;
    if (consumer.failed()) stop.request("the consumer failed: " + consumer.error());
    // Idleness counts from the first assignment (see RecordPrinter).
    if (!assigned && !consumer.stats().assignment.empty()) {
      assigned = true;
      printer.mark_activity();
    }
  }
}

void run_consume(const ConsumeOptions& options, CliState& state) {
  StopRequest stop;
  ShutdownSignals signals(stop);  // before any client thread starts
  auto context = make_command_context(state.global);
  state.target = context.target;
  ensure_reachable(context);
  auto consumer_options = context.config.consumer;
  consumer_options.topics = options.topics;
  consumer_options.topic_pattern = options.pattern;
  if (!options.pattern.empty()) consumer_options.topics.clear();
  if (!options.topics.empty()) consumer_options.topic_pattern.clear();
  if (!options.group.empty()) consumer_options.group_id = options.group;
  if (consumer_options.group_id.empty()) consumer_options.group_id = generated_group_id();
  if (!options.from.empty()) {
    consumer_options.initial_offset =
        options.from == "earliest" ? InitialOffset::kEarliest : InitialOffset::kLatest;
  }
  if (context.target.is_embedded()) {
    // librdkafka 2.0.2's mock does not return a group to Empty when its last
    // member leaves, so the next member to join waits session timeout minus
    // one second for the departed ones. Kafka's smallest session timeout
    // keeps that wait short for a command line that joins again and again.
    consumer_options.session_timeout =
        std::min<std::chrono::milliseconds>(consumer_options.session_timeout,
                                            kEmbeddedSessionTimeout);
  }
  // Printing is serial anyway; with one worker at most one record can be
  // handed over past --max (see RecordPrinter), so at most one partition
  // stops committing early.
  consumer_options.worker_threads = 1;

  // A held record (see RecordPrinter) must outlast the commit wait and the
  // close below.
  const auto commit_interval = consumer_options.commit_interval;
  const auto close_timeout = std::chrono::milliseconds(1000);
  RecordPrinter printer(options.format == "json" ? OutputFormat::kJson : OutputFormat::kText,
                        options.max_records, commit_interval + 2 * close_timeout + kCommitMargin,
                        stop);
  const auto group = consumer_options.group_id;
  if (context.target.kind == ClusterKind::kRunningEmbedded) {
    try {
      AdminApiClient(context.target.admin_url).announce_group(group);
    } catch (const Error& error) {
      spdlog::warn("`whippet groups list` will not show group {}: {}", group, error.what());
    }
  }
  Consumer consumer(std::move(consumer_options),
                    [&printer](const Record& record) { printer.handle(record); });
  spdlog::info("consuming as group {}", group);
  wait_until_done(options, consumer, printer, stop);

  if (printer.holding()) {
    // The close will commit nothing more for the held record's partition, so
    // let one periodic commit store what was printed before it.
    std::this_thread::sleep_for(commit_interval + kCommitMargin);
  }
  consumer.close(close_timeout);
  const bool failed = consumer.failed();
  const auto printed = printer.printed();
  fmt::print(stderr, "whippet consume: {} as group {}; stopped: {}{}\n",
             printed == 0 ? "no records"
                          : fmt::format("{} record(s) from {}", printed, printer.partitions()),
             group, stop.reason(),
             printer.holding() ? "; records past --max stay uncommitted for the group" : "");
  if (failed) state.exit_code = 1;
}

}  // namespace

void add_consume_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<ConsumeOptions>();
  auto* command = app.add_subcommand(
      "consume",
      "Print the records of TOPIC... (or of topics matching --pattern) as a member of a consumer "
      "group, committing what was printed. Records go to stdout, one per line; a summary to "
      "stderr at the end.");
  auto* topics = command->add_option("TOPIC", options->topics, "Topics to read");
  auto* pattern = command->add_option(
      "--pattern", options->pattern,
      "Read every topic whose whole name matches this regular expression (ECMAScript)");
  topics->excludes(pattern);
  command->add_option("--group", options->group,
                      "Consumer group (default: the config's group_id, else a new "
                      "whippet-cli-XXXXXXXX group)");
  command->add_option("--from", options->from,
                      "Where a group starts in a partition it never committed to (default: the "
                      "config's initial_offset, latest)")
      ->check(CLI::IsMember({"earliest", "latest"}));
  command->add_option("--max", options->max_records, "Stop after printing N records")
      ->check(CLI::PositiveNumber);
  command->add_option("--timeout", options->idle_seconds,
                      "Stop after SECONDS without a record, counted from when the group assigned "
                      "partitions (at the latest 8 s after the start)")
      ->check(CLI::PositiveNumber);
  command->add_option("--format", options->format,
                      "text: topic/partition@offset key=K [headers] value, escaped where not "
                      "printable; json: one object per line with topic, partition, offset, "
                      "timestamp (ms), key, value, headers, where keys and values that are not "
                      "UTF-8 are base64 and marked \"key_encoding\"/\"value_encoding\": \"base64\"")
      ->check(CLI::IsMember({"text", "json"}));
  command->footer(with_global_options(
      "Examples:\n"
      "  whippet consume orders --from earliest --max 10\n"
      "  whippet consume orders payments --group billing --timeout 5\n"
      "  whippet consume --pattern 'orders-.*' --format json | jq .value"));
  command->callback([options, &state] {
    if (options->topics.empty() && options->pattern.empty()) {
      throw CLI::RequiredError("TOPIC... or --pattern");
    }
    run_consume(*options, state);
  });
}

}  // namespace whippet::cli
