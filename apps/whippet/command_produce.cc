// `whippet produce TOPIC`: records from stdin (one per line) or generated,
// sent with whippet::Producer; every record's outcome is counted.

#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/core.h>

#include "argument_parsing.h"
#include "commands.h"
#include "whippet/producer.h"

namespace whippet::cli {
namespace {

struct ProduceOptions {
  std::string topic;
  std::string key_separator;
  std::vector<std::string> headers;
  std::optional<int32_t> partition;
  std::optional<std::string> value;
  std::optional<std::size_t> count;
  bool print_offsets = false;
};

// Outcomes arrive on the producer's delivery thread.
class DeliveryTally {
 public:
  void delivered(std::size_t number, const RecordMetadata& metadata) {
    std::lock_guard lock(mutex_);
    ++delivered_;
    auto& range = partitions_[metadata.partition];
    range.first = std::min(range.first, metadata.offset);
    range.last = std::max(range.last, metadata.offset);
    ++range.count;
    if (keep_positions_) positions_[number] = metadata;
  }
  void failed(const Error& error) {
    std::lock_guard lock(mutex_);
    ++failures_[error.what()];
  }
  void keep_positions() { keep_positions_ = true; }

  // Prints the summary on stdout and returns the number of failed records.
  std::size_t report(const std::string& topic, std::size_t sent) const;

 private:
  struct Range {
    int64_t first = INT64_MAX;
    int64_t last = -1;
    std::size_t count = 0;
  };
  mutable std::mutex mutex_;
  bool keep_positions_ = false;
  std::size_t delivered_ = 0;
  std::map<int32_t, Range> partitions_;
  std::map<std::size_t, RecordMetadata> positions_;  // record number -> where it went
  std::map<std::string, std::size_t> failures_;      // error text -> records
};

std::size_t DeliveryTally::report(const std::string& topic, std::size_t sent) const {
  std::lock_guard lock(mutex_);
  for (const auto& [number, metadata] : positions_) {
    fmt::print("record {} -> {}/{}@{}\n", number, metadata.topic, metadata.partition,
               metadata.offset);
  }
  std::size_t failed = 0;
  for (const auto& [text, records] : failures_) failed += records;
  fmt::print("produced {} record(s) to {}: {} delivered, {} failed\n", sent, topic, delivered_,
             failed);
  if (keep_positions_) {
    for (const auto& [partition, range] : partitions_) {
      fmt::print("  partition {}: {} record(s), offsets {}..{}\n", partition, range.count,
                 range.first, range.last);
    }
  }
  for (const auto& [text, records] : failures_) {
    fmt::print("  {} record(s) failed: {}\n", records, text);
  }
  return failed;
}

ProducerRecord make_record(const ProduceOptions& options, const Headers& headers) {
  ProducerRecord record;
  record.topic = options.topic;
  record.headers = headers;
  record.partition = options.partition;
  return record;
}

// "TEXT-7", or TEXT with every "{n}" replaced by 7.
std::string numbered_value(const std::string& text, std::size_t number) {
  const auto placeholder = text.find("{n}");
  if (placeholder == std::string::npos) return text + "-" + std::to_string(number);
  std::string value = text;
  for (auto at = placeholder; at != std::string::npos; at = value.find("{n}", at)) {
    value.replace(at, 3, std::to_string(number));
  }
  return value;
}

void run_produce(const ProduceOptions& options, CliState& state) {
  const auto headers = parse_headers(options.headers);
  auto context = make_command_context(state.global);
  state.target = context.target;
  ensure_reachable(context);
  // Declared before the producer so it outlives every delivery callback,
  // including those the producer's destructor reports.
  DeliveryTally tally;
  if (options.print_offsets) tally.keep_positions();
  Producer producer(context.config.producer);

  std::size_t sent = 0;
  const auto send = [&](ProducerRecord record) {
    const auto number = ++sent;
    producer.send(std::move(record), [&tally, number](const Result<RecordMetadata>& outcome) {
      if (outcome) {
        tally.delivered(number, outcome.value());
      } else {
        tally.failed(outcome.error());
      }
    });
  };

  if (options.value || options.count) {
    const auto count = options.count.value_or(1);
    for (std::size_t number = 1; number <= count; ++number) {
      auto record = make_record(options, headers);
      const auto text = options.value.value_or("record");
      record.value = options.count ? numbered_value(text, number) : text;
      send(std::move(record));
    }
  } else {
    for (std::string line; std::getline(std::cin, line);) {
      auto record = make_record(options, headers);
      const auto separator = options.key_separator.empty()
                                 ? std::string::npos
                                 : line.find(options.key_separator);
      if (separator == std::string::npos) {
        record.value = std::move(line);
      } else {
        record.key = line.substr(0, separator);
        record.value = line.substr(separator + options.key_separator.size());
      }
      send(std::move(record));
    }
  }
  // Every record gets its outcome within the delivery timeout; the margin
  // lets the last delivery reports arrive.
  try {
    producer.flush(context.config.producer.delivery_timeout + std::chrono::seconds(5));
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kTimeout) throw;
    // close() below reports what is still pending as failed records.
  }
  producer.close(std::chrono::seconds(5));
  if (tally.report(options.topic, sent) > 0) state.exit_code = 1;
}

}  // namespace

void add_produce_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<ProduceOptions>();
  auto* command = app.add_subcommand(
      "produce",
      "Send records to TOPIC: one per line of stdin, or --count generated ones. Prints how many "
      "were delivered and why any failed; exits 1 if any failed.");
  command->add_option("TOPIC", options->topic, "Topic to write to")->required();
  command->add_option("--key-separator", options->key_separator,
                      "Split each line at the first SEP into key and value (a line without SEP "
                      "is sent as a value without key)");
  command->add_option("--header", options->headers,
                      "Add header KEY=VALUE to every record; repeatable, order kept")
      ->check(key_value_form("--header"));
  command->add_option("--partition", options->partition,
                      "Write to this partition instead of letting the key choose")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--value", options->value,
                      "Send TEXT instead of reading stdin; with --count, numbered: TEXT-1, "
                      "TEXT-2, ... (or \"{n}\" in TEXT replaced by the number)");
  command->add_option("--count", options->count,
                      "Send N generated records (values TEXT-N, default TEXT \"record\")")
      ->check(CLI::PositiveNumber);
  command->add_flag("--print-offsets", options->print_offsets,
                    "Also print where each record went, and offsets per partition");
  command->footer(with_global_options(
      "Examples:\n"
      "  echo hello | whippet produce greetings\n"
      "  printf 'order-1:{\"item\":\"book\"}\\n' | whippet produce orders --key-separator : "
      "--header source=shop\n"
      "  whippet produce orders --count 1000 --value 'order {n}' --print-offsets\n"
      "  whippet produce orders --partition 2 < records.txt"));
  command->callback([options, &state] { run_produce(*options, state); });
}

}  // namespace whippet::cli
