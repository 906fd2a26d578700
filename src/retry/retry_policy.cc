#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "whippet/error.h"
#include "whippet/retry.h"

namespace whippet {
namespace {

using std::chrono::milliseconds;

// A negative delay (only possible in hand-built policies; parsing rejects
// them) means no wait.
milliseconds non_negative(milliseconds delay) { return std::max(delay, milliseconds::zero()); }

std::optional<milliseconds> delay_of(const FixedBackOffs& back_off, int retry) {
  if (static_cast<std::size_t>(retry) > back_off.delays.size()) return std::nullopt;
  return non_negative(back_off.delays[static_cast<std::size_t>(retry) - 1]);
}

std::optional<milliseconds> delay_of(const InfiniteBackOff& back_off, int /*retry*/) {
  return non_negative(back_off.delay);
}

std::optional<milliseconds> delay_of(const ExponentialBackOff& back_off, int retry) {
  if (back_off.max_attempts > 0 && retry > back_off.max_attempts) return std::nullopt;
  const auto cap = non_negative(back_off.max);
  const auto initial = std::min(non_negative(back_off.initial), cap);
  // Also keeps 0 * infinity (NaN) out of the computation below.
  if (initial == milliseconds::zero()) return initial;
  // A multiplier below 1 (or NaN) would shrink the delays: treated as 1.
  const double multiplier = back_off.multiplier >= 1.0 ? back_off.multiplier : 1.0;
  // In floating point, so that a large exponent saturates (to infinity at
  // worst) instead of overflowing; the cap then applies.
  const double delay =
      static_cast<double>(initial.count()) * std::pow(multiplier, static_cast<double>(retry - 1));
  if (!(delay < static_cast<double>(cap.count()))) return cap;
  return milliseconds(static_cast<std::int64_t>(delay));
}

bool needs_topics(const RetryPolicy& policy) { return !std::holds_alternative<NoRetry>(policy); }

}  // namespace

std::optional<std::chrono::milliseconds> delay_before_retry(const BackOff& back_off, int retry) {
  if (retry < 1) return std::nullopt;
  return std::visit([retry](const auto& schedule) { return delay_of(schedule, retry); }, back_off);
}

const RetryPolicy& RetryPolicies::for_topic(const std::string& topic) const {
  const auto found = per_topic.find(topic);
  return found == per_topic.end() ? default_policy : found->second;
}

// Blocking retries and retry topics both end in the dead-letter topic.
bool RetryPolicies::needs_topics() const {
  return whippet::needs_topics(default_policy) ||
         std::any_of(per_topic.begin(), per_topic.end(),
                     [](const auto& entry) { return whippet::needs_topics(entry.second); });
}

namespace {

void check_names(const std::string& topic, const std::string& group) {
  if (topic.empty() || group.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "retry topic names need a topic and a group");
  }
}

}  // namespace

std::string RetryTopicNamer::retry_topic(const std::string& topic, const std::string& group,
                                         int step) {
  check_names(topic, group);
  if (step < 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "retry step must not be negative, got " + std::to_string(step));
  }
  return topic + "-" + group + "-retry-" + std::to_string(step);
}

std::string RetryTopicNamer::dead_letter_topic(const std::string& topic, const std::string& group) {
  check_names(topic, group);
  return topic + "-" + group + "-dlt";
}

}  // namespace whippet
