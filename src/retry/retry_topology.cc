#include "retry/retry_topology.h"

#include <set>
#include <variant>

#include "whippet/error.h"

namespace whippet::retry {

RetryTopology::RetryTopology(const RetryPolicies& policies, const std::string& group,
                             const std::vector<std::string>& topics, bool pattern_subscription) {
  if (pattern_subscription && std::holds_alternative<RetryTopics>(policies.default_policy)) {
    throw Error(ErrorCode::kInvalidConfig,
                "retry topics need the topic names: a pattern subscription cannot use a default "
                "policy of retry_topics; name the topics under retry.topics instead",
                ErrorContext::of_group(group));
  }
  std::set<std::string> known(topics.begin(), topics.end());
  for (const auto& [topic, policy] : policies.per_topic) known.insert(topic);
  for (const auto& topic : known) {
    const auto& policy = policies.for_topic(topic);
    if (std::holds_alternative<NoRetry>(policy)) continue;
    if (const auto* steps = std::get_if<RetryTopics>(&policy)) {
      for (int step = 1; step <= static_cast<int>(steps->steps.size()); ++step) {
        auto name = RetryTopicNamer::retry_topic(topic, group, step);
        retry_topic_origins_[name] = {topic, step};
        retry_topics_.push_back(name);
        topics_to_create_.push_back({std::move(name), topic});
      }
    }
    topics_to_create_.push_back({RetryTopicNamer::dead_letter_topic(topic, group), topic});
  }
}

RetryTopology::Origin RetryTopology::origin_of(const std::string& topic) const {
  auto found = retry_topic_origins_.find(topic);
  if (found == retry_topic_origins_.end()) return {topic, 0};
  return found->second;
}

bool RetryTopology::is_retry_topic(const std::string& topic) const {
  return retry_topic_origins_.contains(topic);
}

}  // namespace whippet::retry
