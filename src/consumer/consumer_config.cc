#include "consumer/consumer_config.h"

#include <regex.h>

namespace whippet::consumer {
namespace {

std::string assignment_strategy_name(AssignmentStrategy strategy) {
  switch (strategy) {
    case AssignmentStrategy::kCooperativeSticky:
      return "cooperative-sticky";
    case AssignmentStrategy::kRange:
      return "range";
    case AssignmentStrategy::kRoundRobin:
      return "roundrobin";
  }
  return "cooperative-sticky";
}

}  // namespace

kafka::Properties consumer_properties(const ConsumerOptions& options,
                                      const ResolvedCluster& cluster) {
  auto properties = kafka::consumer_base_properties(cluster, options.cluster, options.group_id);
  // Only used when a committed offset has fallen out of retention; first
  // assignments get an explicit, committed starting position instead.
  properties["auto.offset.reset"] =
      options.initial_offset == InitialOffset::kEarliest ? "earliest" : "latest";
  properties["session.timeout.ms"] = std::to_string(options.session_timeout.count());
  properties["max.poll.interval.ms"] = std::to_string(options.max_poll_interval.count());
  properties["partition.assignment.strategy"] =
      assignment_strategy_name(options.assignment_strategy);
  return properties;
}

void validate(const ConsumerOptions& options) {
  if (options.group_id.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "consumer needs a group_id");
  }
  if (options.topics.empty() == options.topic_pattern.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "consumer of group " + options.group_id +
                    " needs either topics or a topic_pattern, not both and not neither");
  }
  if (!options.topic_pattern.empty()) {
    // POSIX extended syntax, close to what librdkafka accepts.
    regex_t compiled;
    const int status = regcomp(&compiled, options.topic_pattern.c_str(), REG_EXTENDED | REG_NOSUB);
    if (status != 0) {
      char reason[256];
      regerror(status, &compiled, reason, sizeof reason);
      throw Error(ErrorCode::kInvalidArgument,
                  "topic_pattern '" + options.topic_pattern + "' is not a valid regex: " + reason);
    }
    regfree(&compiled);
  }
  if (options.max_queued_records_per_partition == 0) {
    throw Error(ErrorCode::kInvalidArgument, "max_queued_records_per_partition must be at least 1");
  }
  if (options.max_queued_bytes_per_partition == 0) {
    throw Error(ErrorCode::kInvalidArgument, "max_queued_bytes_per_partition must be at least 1");
  }
  if (const auto* parallel = std::get_if<KeyOrdered>(&options.dispatch);
      parallel && (parallel->parallelism == 0 || parallel->parallelism > 4096)) {
    throw Error(ErrorCode::kInvalidArgument,
                "key-ordered parallelism must be between 1 and 4096 (it is the number of handler "
                "threads), got " + std::to_string(parallel->parallelism));
  }
  if (const auto* batched = std::get_if<Batched>(&options.dispatch);
      batched && (batched->max_records == 0 || batched->max_bytes == 0 ||
                  batched->max_wait.count() < 0)) {
    throw Error(ErrorCode::kInvalidArgument,
                "batched dispatch needs max_records and max_bytes of at least 1 and a max_wait "
                "that is not negative");
  }
  if (options.commit_interval.count() <= 0) {
    throw Error(ErrorCode::kInvalidArgument, "commit_interval must be positive");
  }
}

}  // namespace whippet::consumer
