// `whippet groups list|lag`, with whippet::AdminClient; on a `whippet up`
// cluster through its admin API, because only the process that owns the
// mock can answer group questions without the admin calls it lacks.

#include <algorithm>

#include <fmt/core.h>

#include "admin_api_client.h"
#include "commands.h"
#include "text_table.h"
#include "whippet/admin.h"

namespace whippet::cli {
namespace {

struct GroupsOptions {
  std::string group;
  std::vector<std::string> topics;
};

void list_groups(CliState& state) {
  auto context = make_command_context(state.global);
  state.target = context.target;
  const auto groups = context.target.kind == ClusterKind::kRunningEmbedded
                          ? AdminApiClient(context.target.admin_url).list_groups()
                          : AdminClient(context.config.admin).list_groups();
  TextTable table({"group", "state", "protocol"});
  for (const auto& group : groups) {
    table.add_row({group.group_id, group.state.empty() ? "-" : group.state,
                   group.protocol_type.empty() ? "-" : group.protocol_type});
  }
  table.print(stdout);
}

void show_lag(const GroupsOptions& options, CliState& state) {
  auto context = make_command_context(state.global);
  state.target = context.target;
  if (context.target.is_embedded() && options.topics.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "the embedded cluster cannot tell which topics group " + options.group +
                    " reads: name them, e.g. whippet groups lag " + options.group +
                    " --topic TOPIC");
  }
  auto lags = context.target.kind == ClusterKind::kRunningEmbedded
                  ? AdminApiClient(context.target.admin_url).group_lag(options.group, options.topics)
                  : AdminClient(context.config.admin).group_lag(options.group, options.topics);
  std::sort(lags.begin(), lags.end(), [](const PartitionLag& left, const PartitionLag& right) {
    return left.topic_partition < right.topic_partition;
  });
  TextTable table({"topic", "partition", "committed", "end", "lag"});
  int64_t total = 0;
  for (const auto& lag : lags) {
    total += lag.lag;
    table.add_row({lag.topic_partition.topic, std::to_string(lag.topic_partition.partition),
                   lag.committed_offset ? std::to_string(*lag.committed_offset) : "-",
                   std::to_string(lag.high_watermark), std::to_string(lag.lag)});
  }
  table.print(stdout);
  fmt::print("total lag of group {}: {}\n", options.group, total);
}

}  // namespace

void add_groups_command(CLI::App& app, CliState& state) {
  auto options = std::make_shared<GroupsOptions>();
  auto* groups = app.add_subcommand("groups", "List consumer groups and show their lag.");
  groups->require_subcommand(1);
  groups->footer(with_global_options(
      "Examples:\n"
      "  whippet groups list\n"
      "  whippet groups lag billing --topic orders"));

  auto* list = groups->add_subcommand(
      "list", "Print every consumer group with its state. On the embedded cluster, which cannot "
              "list groups: the groups whippet consumers have used, state unknown.");
  list->footer(with_global_options("Examples:\n  whippet groups list"));
  list->callback([&state] { list_groups(state); });

  auto* lag = groups->add_subcommand(
      "lag", "Show, per partition, the group's committed offset, the end of the partition (high "
             "watermark) and the lag between them, plus the total. A partition the group never "
             "committed to shows committed '-' and all its records as lag.");
  lag->add_option("GROUP", options->group, "Consumer group")->required();
  lag->add_option("--topic", options->topics,
                  "Topic to report; repeatable. Without it, every topic the group committed to "
                  "(real Kafka only: the embedded cluster needs the topics named)");
  lag->footer(with_global_options(
      "Examples:\n"
      "  whippet groups lag billing --topic orders\n"
      "  whippet groups lag billing --topic orders --topic payments"));
  lag->callback([options, &state] { show_lag(*options, state); });
}

}  // namespace whippet::cli
