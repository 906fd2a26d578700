// The blocking state as JSON, for the control plane and the CLI.

#include "whippet/runtime.h"

namespace whippet {

nlohmann::json to_json(const BlockedRecord& blocked) {
  return {
      {"topic", blocked.partition.topic},
      {"partition", blocked.partition.partition},
      {"offset", blocked.offset},
      {"attempt", blocked.attempt},
      {"blocked_seconds", blocked.blocked_seconds},
      {"error", blocked.error},
  };
}

nlohmann::json to_json(const BlockingState& state) {
  auto blocked = nlohmann::json::array();
  for (const auto& record : state.blocked) blocked.push_back(to_json(record));
  auto partitions = nlohmann::json::array();
  for (const auto& partition : state.skipping_partitions) {
    partitions.push_back({{"topic", partition.topic}, {"partition", partition.partition}});
  }
  return {
      {"blocked", std::move(blocked)},
      {"skipping_partitions", std::move(partitions)},
      {"skipping_topics", state.skipping_topics},
  };
}

}  // namespace whippet
