#include "error_report.h"

#include <fmt/core.h>

namespace whippet::cli {
namespace {

std::string cluster_address(const std::optional<ClusterTarget>& target) {
  return target ? target->bootstrap_servers : "the configured brokers";
}

std::string hint_for(const Error& error, const std::optional<ClusterTarget>& target) {
  const bool embedded = target && target->is_embedded();
  switch (error.code()) {
    case ErrorCode::kBrokerUnreachable:
      if (target && target->kind == ClusterKind::kRunningEmbedded) {
        return "is `whippet up` still running? start it again, or set --brokers or WHIPPET_BROKERS";
      }
      return "is Kafka running at " + cluster_address(target) +
             "? set --brokers or WHIPPET_BROKERS, or start `whippet up`";
    case ErrorCode::kTimeout:
      return "the cluster at " + cluster_address(target) +
             " did not answer in time; check that it is healthy, or raise "
             "cluster.request_timeout_ms in the --config file";
    case ErrorCode::kUnknownTopic: {
      const auto topic = error.context().topic.empty() ? "TOPIC" : error.context().topic;
      return "create it with `whippet topics create " + topic + "`, or check the name with "
             "`whippet topics list`";
    }
    case ErrorCode::kNotFound:
      return "check the name with `whippet topics list` or `whippet groups list`";
    case ErrorCode::kUnsupported:
      if (embedded) {
        return "the embedded cluster (librdkafka's mock) cannot do this; use a real Kafka, e.g. "
               "export WHIPPET_BROKERS=$(scripts/kafka start main)";
      }
      return "the cluster does not support this operation";
    case ErrorCode::kInvalidConfig:
      return "check the --config file and the WHIPPET_* environment variables";
    case ErrorCode::kRecordTooLarge:
      return "raise producer.max_record_bytes in the --config file (the broker's own limit "
             "also applies)";
    case ErrorCode::kInvalidArgument:
      return "see `whippet --help` and `whippet COMMAND --help` for usage";
    default:
      return "run again with -v (or -vv) for details";
  }
}

}  // namespace

void report_error(const Error& error, const std::optional<ClusterTarget>& target) {
  fmt::print(stderr, "whippet: error: {}\n", error.what());
  fmt::print(stderr, "whippet: hint: {}\n", hint_for(error, target));
}

}  // namespace whippet::cli
