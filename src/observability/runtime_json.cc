#include "whippet/runtime.h"

namespace whippet {
namespace {

// Absent values are explicit nulls, so that a reader can tell "none" from a
// field an older Whippet did not send.
template <typename Value>
nlohmann::json optional_to_json(const std::optional<Value>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const PartitionSnapshot& snapshot) {
  return {
      {"topic", snapshot.topic},
      {"partition", snapshot.partition},
      {"queued", snapshot.queued},
      {"in_flight", snapshot.in_flight},
      {"in_progress_offset", optional_to_json(snapshot.in_progress_offset)},
      {"in_progress_seconds", snapshot.in_progress_seconds},
      {"paused_seconds", optional_to_json(snapshot.paused_seconds)},
      {"blocked_offset", optional_to_json(snapshot.blocked_offset)},
      {"blocked_attempt", snapshot.blocked_attempt},
      {"committed_offset", optional_to_json(snapshot.committed_offset)},
      {"gaps", snapshot.gaps},
      {"high_watermark", snapshot.high_watermark},
      {"lag", snapshot.lag},
      {"lag_seconds", snapshot.lag_seconds},
  };
}

nlohmann::json to_json(const ConsumerSnapshot& snapshot) {
  auto partitions = nlohmann::json::array();
  for (const auto& partition : snapshot.partitions) partitions.push_back(to_json(partition));
  return {
      {"group", snapshot.group},
      {"handler", snapshot.handler},
      {"topics", snapshot.topics},
      {"topic_pattern", snapshot.topic_pattern},
      {"state", snapshot.state},
      {"error", snapshot.error},
      {"records_handled", snapshot.records_handled},
      {"handler_failures", snapshot.handler_failures},
      {"commits", snapshot.commits},
      {"commit_failures", snapshot.commit_failures},
      {"rebalances", snapshot.rebalances},
      {"partitions", std::move(partitions)},
  };
}

}  // namespace whippet
