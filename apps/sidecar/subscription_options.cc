#include "subscription_options.h"

#include <nlohmann/json.hpp>

#include "record_messages.h"
#include "whippet/error.h"
#include "whippet/retry.h"

namespace whippet::sidecar {
namespace {

constexpr std::size_t kMostInFlight = 100000;
constexpr uint32_t kLongestAckDeadlineMs = 24 * 3600 * 1000;
constexpr std::size_t kMostParallelism = 4096;

template <class Repeated>
nlohmann::json delays(const Repeated& values) {
  auto list = nlohmann::json::array();
  for (auto value : values) list.push_back(value);
  return list;
}

nlohmann::json blocking_json(const v1::BlockingRetry& blocking) {
  switch (blocking.back_off_case()) {
    case v1::BlockingRetry::kFixed:
      return {{"backoffs_ms", delays(blocking.fixed().delays_ms())}};
    case v1::BlockingRetry::kInfinite:
      return {{"infinite_ms", blocking.infinite().delay_ms()}};
    case v1::BlockingRetry::kExponential: {
      const auto& exponential = blocking.exponential();
      return {{"exponential",
               {{"initial_ms", exponential.initial_ms()},
                {"multiplier", exponential.multiplier()},
                {"max_ms", exponential.max_ms()},
                {"max_attempts", exponential.max_attempts()}}}};
    }
    case v1::BlockingRetry::BACK_OFF_NOT_SET:
      break;
  }
  throw Error(ErrorCode::kInvalidArgument,
              "a blocking retry policy needs a back-off: fixed, infinite or exponential");
}

nlohmann::json policy_json(const v1::RetryPolicy& policy) {
  switch (policy.policy_case()) {
    case v1::RetryPolicy::kNone:
    case v1::RetryPolicy::POLICY_NOT_SET:
      return "none";
    case v1::RetryPolicy::kBlocking:
      return {{"blocking", blocking_json(policy.blocking())}};
    case v1::RetryPolicy::kRetryTopics:
      return {{"retry_topics", {{"backoffs_ms", delays(policy.retry_topics().backoffs_ms())}}}};
  }
  return "none";
}

// The proto cannot tell "unset" from 0; both mean the broker-side default.
int count_or_default(int32_t value) { return value <= 0 ? -1 : value; }

DispatchMode to_dispatch_mode(const v1::Subscription& subscription) {
  if (subscription.ordering_case() != v1::Subscription::kKeyOrdered) return PartitionOrdered{};
  const auto parallelism = subscription.key_ordered().parallelism();
  if (parallelism > kMostParallelism) {
    throw Error(ErrorCode::kInvalidArgument, "key_ordered.parallelism " +
                                                 std::to_string(parallelism) + " exceeds " +
                                                 std::to_string(kMostParallelism));
  }
  return KeyOrdered{parallelism == 0 ? 64 : parallelism};
}

}  // namespace

RetryPolicies to_retry_policies(const v1::RetryPolicies& policies) {
  nlohmann::json document = {{"default", policy_json(policies.default_policy())}};
  auto& topics = document["topics"] = nlohmann::json::object();
  for (const auto& [topic, policy] : policies.per_topic()) topics[topic] = policy_json(policy);
  const auto& settings = policies.topic_settings();
  nlohmann::json topic_settings = {
      {"partitions", count_or_default(settings.partitions())},
      {"replication_factor", count_or_default(settings.replication_factor())}};
  if (settings.has_retention_ms()) topic_settings["retention_ms"] = settings.retention_ms();
  document["topic_settings"] = topic_settings;
  try {
    return parse_retry_policies(document.dump());
  } catch (const Error& error) {
    throw Error(ErrorCode::kInvalidArgument, std::string("retry policy: ") + error.what());
  }
}

SubscriptionOptions to_subscription_options(const v1::Subscription& subscription,
                                            const SubscriptionDefaults& defaults) {
  if (subscription.group().empty()) {
    throw Error(ErrorCode::kInvalidArgument, "group is empty: name the consumer group");
  }
  if (subscription.topics().empty()) {
    throw Error(ErrorCode::kInvalidArgument, "topics is empty: name at least one topic");
  }
  SubscriptionOptions options;
  options.consumer = defaults.consumer;
  options.consumer.topics.clear();  // the subscription's own, not the defaults'
  options.consumer.topic_pattern.clear();
  options.consumer.group_id = subscription.group();
  options.consumer.handler_name =
      subscription.handler_name().empty() ? subscription.group() : subscription.handler_name();
  for (const auto& topic : subscription.topics()) {
    validate_topic_name(topic, "topics");
    options.consumer.topics.push_back(topic);
  }
  options.consumer.initial_offset = subscription.initial_offset() == v1::INITIAL_OFFSET_EARLIEST
                                        ? InitialOffset::kEarliest
                                        : InitialOffset::kLatest;
  options.consumer.dispatch = to_dispatch_mode(subscription);
  options.consumer.retry = to_retry_policies(subscription.retry());
  for (const auto& [topic, policy] : options.consumer.retry.per_topic) {
    (void)policy;
    if (std::find(options.consumer.topics.begin(), options.consumer.topics.end(), topic) ==
        options.consumer.topics.end()) {
      throw Error(ErrorCode::kInvalidArgument,
                  "retry.per_topic names \"" + topic + "\", which is not among the topics");
    }
  }
  options.max_in_flight =
      subscription.max_in_flight() == 0 ? defaults.max_in_flight : subscription.max_in_flight();
  if (options.max_in_flight > kMostInFlight) {
    throw Error(ErrorCode::kInvalidArgument, "max_in_flight " +
                                                 std::to_string(subscription.max_in_flight()) +
                                                 " exceeds " + std::to_string(kMostInFlight));
  }
  if (subscription.ack_deadline_ms() > kLongestAckDeadlineMs) {
    throw Error(ErrorCode::kInvalidArgument, "ack_deadline_ms " +
                                                 std::to_string(subscription.ack_deadline_ms()) +
                                                 " exceeds a day");
  }
  options.ack_deadline = subscription.ack_deadline_ms() == 0
                             ? defaults.ack_deadline
                             : std::chrono::milliseconds(subscription.ack_deadline_ms());
  options.topics_read = options.consumer.topics;
  for (const auto& topic : options.consumer.topics) {
    if (const auto* steps = std::get_if<RetryTopics>(&options.consumer.retry.for_topic(topic))) {
      for (std::size_t step = 1; step <= steps->steps.size(); ++step) {
        options.topics_read.push_back(
            RetryTopicNamer::retry_topic(topic, subscription.group(), static_cast<int>(step)));
      }
    }
  }
  return options;
}

}  // namespace whippet::sidecar
