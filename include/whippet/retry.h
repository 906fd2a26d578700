#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace whippet {

// Thrown by a handler for a failure that retrying cannot fix: the record
// skips its remaining retries and goes straight to the dead-letter topic.
// (A DeserializationError is treated the same way.)
class NonRetriableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by a handler that reports a failure on someone else's behalf (the
// sidecar, for a client in another language): `type` names the error in the
// dead-letter headers and metrics instead of this class, and a non-retriable
// one goes straight to the dead-letter topic like a NonRetriableError.
class ReportedFailure : public std::runtime_error {
 public:
  ReportedFailure(std::string type, const std::string& message, bool retriable)
      : std::runtime_error(message), type_(std::move(type)), retriable_(retriable) {}
  const std::string& type() const noexcept { return type_; }
  bool retriable() const noexcept { return retriable_; }

 private:
  std::string type_;
  bool retriable_;
};

// Thrown by a handler that gives a record up without an outcome, e.g. because
// the client it was handed to went away. The record is neither retried nor
// committed: the partition's committed offset stays below it, so the group
// delivers it again after the next rebalance or restart. The consumer itself
// does not run it again; close it (or let the partition be revoked) to hand
// the record over.
class RecordAbandoned : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Back-off schedules: how long to wait before each retry.

// One retry per listed delay, then give up.
struct FixedBackOffs {
  std::vector<std::chrono::milliseconds> delays;
  bool operator==(const FixedBackOffs&) const = default;
};

// Retry forever, waiting the same delay each time.
struct InfiniteBackOff {
  std::chrono::milliseconds delay{1000};
  bool operator==(const InfiniteBackOff&) const = default;
};

// initial, initial*multiplier, ... capped at max; max_attempts retries, or
// forever when 0.
struct ExponentialBackOff {
  std::chrono::milliseconds initial{100};
  double multiplier = 2.0;
  std::chrono::milliseconds max{30000};
  int max_attempts = 0;
  bool operator==(const ExponentialBackOff&) const = default;
};

using BackOff = std::variant<FixedBackOffs, InfiniteBackOff, ExponentialBackOff>;

// The delay before retry number `retry` (1 for the first retry), or none
// once the schedule is exhausted.
std::optional<std::chrono::milliseconds> delay_before_retry(const BackOff& back_off, int retry);

// Retry strategies, plain data so they can come from YAML, JSON or gRPC.

// A failed record is logged and counts as handled.
struct NoRetry {
  bool operator==(const NoRetry&) const = default;
};

// Retry in place: the partition keeps its order and waits (paused, while
// polling goes on). Once the back-off is exhausted, the dead-letter topic.
struct BlockingRetry {
  BackOff back_off = FixedBackOffs{};
  bool operator==(const BlockingRetry&) const = default;
};

// Retry without blocking: step n sends the record to the topic
// `<topic>-<group>-retry-<n>`, where it is handled again once
// submitTimestamp + backOffTimeMs has passed. After the last step, the
// dead-letter topic `<topic>-<group>-dlt`.
struct RetryTopics {
  std::vector<std::chrono::milliseconds> steps;
  bool operator==(const RetryTopics&) const = default;
};

using RetryPolicy = std::variant<NoRetry, BlockingRetry, RetryTopics>;

// How retry and dead-letter topics are created when missing. -1: as many
// as the topic the records come from has.
struct RetryTopicSettings {
  int partitions = -1;
  int replication_factor = -1;
  std::optional<std::chrono::milliseconds> retention;  // retention.ms; broker default when unset
  bool operator==(const RetryTopicSettings&) const = default;
};

// Policies per topic, with a default for topics not listed.
struct RetryPolicies {
  RetryPolicy default_policy = NoRetry{};
  std::map<std::string, RetryPolicy> per_topic;
  RetryTopicSettings topic_settings;

  const RetryPolicy& for_topic(const std::string& topic) const;
  // True when any policy needs retry or dead-letter topics.
  bool needs_topics() const;

  bool operator==(const RetryPolicies&) const = default;
};

// Loads policies from YAML or JSON text of this shape (every key optional):
//   default: { blocking: { backoffs_ms: [100, 200] } }
//   topics:
//     orders:   { retry_topics: { backoffs_ms: [1000, 2000] } }
//     payments: { blocking: { exponential: { initial_ms: 100, multiplier: 2,
//                                            max_ms: 30000, max_attempts: 0 } } }
//     audit:    { blocking: { infinite_ms: 1000 } }
//     metrics:  none
//   topic_settings: { partitions: 4, replication_factor: 3, retention_ms: 604800000 }
// A policy is `none` or holds exactly one of blocking / retry_topics; a
// blocking back-off exactly one of backoffs_ms / infinite_ms / exponential.
// Delays are non-negative integer milliseconds; lists hold at most 100
// steps and retry_topics at least one; multiplier >= 1, max_ms >= initial_ms;
// partitions and replication_factor are -1 (broker default) or positive.
// Throws whippet::Error (kInvalidConfig) naming the key and the problem.
RetryPolicies parse_retry_policies(std::string_view yaml_or_json);
// The same shape, as JSON; parse_retry_policies(to_json(p)) == p.
std::string to_json(const RetryPolicies& policies);

// Names of the topics a consumer group's retries use. `step` is written as
// given (the caller decides whether steps count from 0 or 1); a negative
// step or an empty topic or group throws Error(kInvalidArgument).
struct RetryTopicNamer {
  static std::string retry_topic(const std::string& topic, const std::string& group, int step);
  static std::string dead_letter_topic(const std::string& topic, const std::string& group);
};

// Headers on retried and dead-lettered copies. The first four are
// Greyhound's names, for interoperability.
namespace retry_headers {
inline constexpr std::string_view kSubmitTimestamp = "submitTimestamp";  // ms since epoch
inline constexpr std::string_view kBackOffTimeMs = "backOffTimeMs";
inline constexpr std::string_view kOriginalTopic = "GH_OriginalTopic";
inline constexpr std::string_view kRetryAttempt = "GH_RetryAttempt";  // attempts so far
inline constexpr std::string_view kOriginalPartition = "whippet.original.partition";
inline constexpr std::string_view kOriginalOffset = "whippet.original.offset";
inline constexpr std::string_view kOriginalTimestamp = "whippet.original.timestamp";
inline constexpr std::string_view kErrorType = "whippet.error.type";
inline constexpr std::string_view kErrorMessage = "whippet.error.message";
}  // namespace retry_headers

}  // namespace whippet
