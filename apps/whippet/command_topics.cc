// `whippet topics list|create|delete|describe`, with whippet::AdminClient;
// on a `whippet up` cluster, create and delete go through its admin API
// because the mock cannot do them over the Kafka protocol.

#include <algorithm>

#include <fmt/core.h>

#include "admin_api_client.h"
#include "argument_parsing.h"
#include "commands.h"
#include "text_table.h"
#include "whippet/admin.h"

namespace whippet::cli {
namespace {

struct TopicsOptions {
  bool include_internal = false;
  std::vector<std::string> names;
  int partitions = 1;
  int replication = 1;
  std::vector<std::string> configs;
  bool if_not_exists = false;
};

std::string join(const std::vector<int32_t>& numbers) {
  std::string text;
  for (const auto number : numbers) text += (text.empty() ? "" : ",") + std::to_string(number);
  return text.empty() ? "-" : text;
}

void list_topics(const TopicsOptions& options, CliState& state) {
  auto context = make_command_context(state.global);
  state.target = context.target;
  AdminClient admin(context.config.admin);
  for (const auto& name : admin.list_topics(options.include_internal)) fmt::print("{}\n", name);
}

void create_topics(const TopicsOptions& options, CliState& state) {
  auto context = make_command_context(state.global);
  state.target = context.target;
  const auto configs = parse_topic_configs(options.configs);
  // Listing works over the Kafka protocol everywhere; creating on a `whippet
  // up` cluster needs its admin API.
  AdminClient admin(context.config.admin);
  const bool through_admin_api = context.target.kind == ClusterKind::kRunningEmbedded;
  for (const auto& name : options.names) {
    const auto existing = admin.list_topics(true);
    if (std::find(existing.begin(), existing.end(), name) != existing.end()) {
      if (!options.if_not_exists) {
        throw Error(ErrorCode::kInvalidArgument,
                    "topic " + name + " already exists (add --if-not-exists to accept that)",
                    ErrorContext::of_topic(name));
      }
      fmt::print("topic {} already exists; left as it is\n", name);
      continue;
    }
    const NewTopic topic{name, options.partitions, options.replication, configs};
    if (through_admin_api) {
      AdminApiClient(context.target.admin_url).create_topic(topic, options.if_not_exists);
    } else {
      admin.create_topic(topic, options.if_not_exists);
    }
    fmt::print("created topic {} ({} partition(s), replication factor {})\n", name,
               options.partitions, options.replication);
  }
}

void delete_topics(const TopicsOptions& options, CliState& state) {
  auto context = make_command_context(state.global);
  state.target = context.target;
  std::optional<AdminClient> admin;
  if (context.target.kind != ClusterKind::kRunningEmbedded) admin.emplace(context.config.admin);
  for (const auto& name : options.names) {
    if (admin) {
      admin->delete_topic(name);
    } else {
      AdminApiClient(context.target.admin_url).delete_topic(name);
    }
    fmt::print("deleted topic {}\n", name);
  }
}

void describe_topics(const TopicsOptions& options, CliState& state) {
  auto context = make_command_context(state.global);
  state.target = context.target;
  AdminClient admin(context.config.admin);
  bool first = true;
  for (const auto& name : options.names) {
    const auto description = admin.describe_topic(name);
    TextTable table({"partition", "leader", "replicas", "isr", "low", "high", "records"});
    int64_t records = 0;
    for (const auto& partition : description.partitions) {
      const auto stored = std::max<int64_t>(0, partition.high_watermark - partition.low_watermark);
      records += stored;
      table.add_row({std::to_string(partition.partition), std::to_string(partition.leader),
                     join(partition.replicas), join(partition.in_sync_replicas),
                     std::to_string(partition.low_watermark),
                     std::to_string(partition.high_watermark), std::to_string(stored)});
    }
    fmt::print("{}topic {}: {} partition(s), {} record(s) stored\n", first ? "" : "\n",
               description.name, description.partitions.size(), records);
    table.print(stdout);
    first = false;
  }
}

}  // namespace

void add_topics_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<TopicsOptions>();
  auto* topics = app.add_subcommand("topics", "List, create, delete and describe topics.");
  topics->require_subcommand(1);
  topics->footer(with_global_options(
      "Examples:\n"
      "  whippet topics list\n"
      "  whippet topics create orders --partitions 4\n"
      "  whippet topics describe orders"));

  auto* list = topics->add_subcommand("list", "Print the names of all topics, one per line.");
  list->add_flag("--internal", options->include_internal,
                 "Include internal topics such as __consumer_offsets");
  list->footer(with_global_options("Examples:\n  whippet topics list\n  whippet topics list --internal | wc -l"));
  list->callback([options, &state] { list_topics(*options, state); });

  auto* create = topics->add_subcommand(
      "create", "Create topics. On the embedded cluster this goes through the mock's own API "
                "(via `whippet up`'s admin API), which cannot set topic configs.");
  create->add_option("TOPIC", options->names, "Topics to create")->required();
  create->add_option("--partitions", options->partitions, "Partitions per topic (default 1)")
      ->check(CLI::PositiveNumber);
  create->add_option("--replication", options->replication,
                     "Replication factor, at most the number of brokers (default 1)")
      ->check(CLI::PositiveNumber);
  create->add_option("--config", options->configs,
                     "Topic config KEY=VALUE, e.g. retention.ms=60000; repeatable")
      ->check(key_value_form("--config"));
  create->add_flag("--if-not-exists", options->if_not_exists,
                   "Succeed when the topic already exists (it is left as it is)");
  create->footer(with_global_options(
      "Examples:\n"
      "  whippet topics create orders --partitions 4\n"
      "  whippet topics create audit --replication 3 --config cleanup.policy=compact\n"
      "  whippet topics create orders payments --if-not-exists"));
  create->callback([options, &state] { create_topics(*options, state); });

  auto* remove = topics->add_subcommand("delete", "Delete topics and all their records.");
  remove->add_option("TOPIC", options->names, "Topics to delete")->required();
  remove->footer(with_global_options("Examples:\n  whippet topics delete orders"));
  remove->callback([options, &state] { delete_topics(*options, state); });

  auto* describe = topics->add_subcommand(
      "describe", "Show each partition's leader, replicas, in-sync replicas, low and high "
                  "watermarks and the number of records stored.");
  describe->add_option("TOPIC", options->names, "Topics to describe")->required();
  describe->footer(with_global_options("Examples:\n  whippet topics describe orders payments"));
  describe->callback([options, &state] { describe_topics(*options, state); });
}

}  // namespace whippet::cli
