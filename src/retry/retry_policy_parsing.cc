#include "retry/retry_policy_parsing.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "whippet/error.h"

namespace whippet {
namespace retry {
namespace {

using std::chrono::milliseconds;

void check_steps(config::YamlSection& section, const char* key,
                 const std::vector<milliseconds>& steps) {
  if (steps.size() > kMaxRetrySteps) {
    section.fail(key, std::to_string(steps.size()) + " retry steps, at most " +
                          std::to_string(kMaxRetrySteps) + " are allowed");
  }
}

ExponentialBackOff read_exponential(config::YamlSection& section) {
  ExponentialBackOff back_off;
  section.read_milliseconds("initial_ms", back_off.initial);
  section.read("multiplier", back_off.multiplier);
  section.read_milliseconds("max_ms", back_off.max);
  section.read("max_attempts", back_off.max_attempts, 0);
  section.reject_unknown_keys();
  if (back_off.multiplier < 1.0) {
    section.fail("multiplier", fmt::format("must be at least 1, got {}", back_off.multiplier));
  }
  if (back_off.max < back_off.initial) {
    section.fail("max_ms", "must be at least initial_ms (" +
                               std::to_string(back_off.initial.count()) + ")");
  }
  return back_off;
}

RetryTopics read_retry_topics(config::YamlSection& section) {
  RetryTopics policy;
  section.read_milliseconds("backoffs_ms", policy.steps);
  section.reject_unknown_keys();
  if (policy.steps.empty()) {
    section.fail("backoffs_ms", "retry_topics needs at least one back-off (one per retry topic)");
  }
  check_steps(section, "backoffs_ms", policy.steps);
  return policy;
}

// `none`, or a mapping with exactly one of blocking and retry_topics.
RetryPolicy read_policy(config::YamlSection& parent, const char* key) {
  const auto value = parent.node(key);
  if (!value) parent.fail(key, "expected none, { blocking: ... } or { retry_topics: ... }");
  if (value->IsScalar()) {
    if (value->Scalar() != "none") {
      parent.fail(key, "\"" + value->Scalar() +
                           "\" is not a policy: expected none, { blocking: ... } or "
                           "{ retry_topics: ... }");
    }
    return NoRetry{};
  }
  auto section = parent.section(key);
  const auto kind = section->one_of({"blocking", "retry_topics"});
  RetryPolicy policy;
  if (kind == "blocking") {
    auto blocking = section->section("blocking");
    if (!blocking) section->fail("blocking", "expected a back-off");
    policy = BlockingRetry{read_back_off(*blocking)};
  } else {
    auto topics = section->section("retry_topics");
    if (!topics) section->fail("retry_topics", "expected { backoffs_ms: [...] }");
    policy = read_retry_topics(*topics);
  }
  section->reject_unknown_keys();
  return policy;
}

// -1 for as many as the source topic has, else at least 1.
void read_count(config::YamlSection& section, const char* key, int& target) {
  section.read(key, target, -1);
  if (target == 0) section.fail(key, "must be at least 1, or -1 for as many as the source topic has");
}

RetryTopicSettings read_topic_settings(config::YamlSection& section) {
  RetryTopicSettings settings;
  read_count(section, "partitions", settings.partitions);
  read_count(section, "replication_factor", settings.replication_factor);
  if (section.node("retention_ms")) {
    milliseconds retention{};
    section.read_milliseconds("retention_ms", retention);
    if (retention == milliseconds::zero()) section.fail("retention_ms", "must be positive");
    settings.retention = retention;
  }
  section.reject_unknown_keys();
  return settings;
}

}  // namespace

BackOff read_back_off(config::YamlSection& section) {
  const auto kind = section.one_of({"backoffs_ms", "infinite_ms", "exponential"});
  BackOff back_off;
  if (kind == "backoffs_ms") {
    FixedBackOffs fixed;
    section.read_milliseconds("backoffs_ms", fixed.delays);
    check_steps(section, "backoffs_ms", fixed.delays);
    back_off = fixed;
  } else if (kind == "infinite_ms") {
    InfiniteBackOff infinite;
    section.read_milliseconds("infinite_ms", infinite.delay);
    if (!section.node("infinite_ms")) section.fail("infinite_ms", "expected milliseconds");
    back_off = infinite;
  } else {
    auto exponential = section.section("exponential");
    back_off = exponential ? read_exponential(*exponential) : ExponentialBackOff{};
  }
  section.reject_unknown_keys();
  return back_off;
}

RetryPolicies read_retry_policies(config::YamlSection& section) {
  RetryPolicies policies;
  if (section.node("default")) policies.default_policy = read_policy(section, "default");
  if (auto topics = section.section("topics")) {
    for (const auto& topic : topics->keys()) {
      if (topic.empty()) topics->fail("", "a topic name must not be empty");
      policies.per_topic[topic] = read_policy(*topics, topic.c_str());
    }
  }
  if (auto settings = section.section("topic_settings")) {
    policies.topic_settings = read_topic_settings(*settings);
  }
  section.reject_unknown_keys();
  return policies;
}

namespace {

nlohmann::json milliseconds_list(const std::vector<milliseconds>& delays) {
  auto list = nlohmann::json::array();
  for (const auto& delay : delays) list.push_back(delay.count());
  return list;
}

nlohmann::json back_off_json(const BackOff& back_off) {
  if (const auto* fixed = std::get_if<FixedBackOffs>(&back_off)) {
    return {{"backoffs_ms", milliseconds_list(fixed->delays)}};
  }
  if (const auto* infinite = std::get_if<InfiniteBackOff>(&back_off)) {
    return {{"infinite_ms", infinite->delay.count()}};
  }
  const auto& exponential = std::get<ExponentialBackOff>(back_off);
  return {{"exponential",
           {{"initial_ms", exponential.initial.count()},
            {"multiplier", exponential.multiplier},
            {"max_ms", exponential.max.count()},
            {"max_attempts", exponential.max_attempts}}}};
}

nlohmann::json policy_json(const RetryPolicy& policy) {
  if (const auto* blocking = std::get_if<BlockingRetry>(&policy)) {
    return {{"blocking", back_off_json(blocking->back_off)}};
  }
  if (const auto* topics = std::get_if<RetryTopics>(&policy)) {
    return {{"retry_topics", {{"backoffs_ms", milliseconds_list(topics->steps)}}}};
  }
  return "none";
}

}  // namespace
}  // namespace retry

RetryPolicies parse_retry_policies(std::string_view yaml_or_json) {
  const std::string source = "<retry policies>";
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_or_json));
  } catch (const YAML::Exception& error) {
    throw Error(ErrorCode::kInvalidConfig, source + ": not valid YAML or JSON: " + error.what());
  }
  config::YamlSection root(document, source, "");
  return retry::read_retry_policies(root);
}

std::string to_json(const RetryPolicies& policies) {
  nlohmann::json document;
  document["default"] = retry::policy_json(policies.default_policy);
  auto topics = nlohmann::json::object();
  for (const auto& [topic, policy] : policies.per_topic) topics[topic] = retry::policy_json(policy);
  document["topics"] = topics;
  nlohmann::json settings = {{"partitions", policies.topic_settings.partitions},
                             {"replication_factor", policies.topic_settings.replication_factor}};
  if (policies.topic_settings.retention) {
    settings["retention_ms"] = policies.topic_settings.retention->count();
  }
  document["topic_settings"] = settings;
  return document.dump(2);
}

}  // namespace whippet
