#pragma once

// Reading retry policies from a YAML (or JSON) mapping, shared by
// parse_retry_policies, the `consumer.retry` section of the configuration and
// the producer's `retry` back-off.

#include <cstddef>

#include "config/yaml_section.h"
#include "whippet/retry.h"

namespace whippet::retry {

// The most retries one schedule may list: each retry_topics step is a topic.
inline constexpr std::size_t kMaxRetrySteps = 100;

// Reads `default`, `topics` and `topic_settings` from `section` and rejects
// any other key. Throws Error(kInvalidConfig) naming the key and line.
RetryPolicies read_retry_policies(config::YamlSection& section);

// Reads a back-off mapping holding exactly one of `backoffs_ms: [...]`,
// `infinite_ms: N` or `exponential: { initial_ms, multiplier, max_ms,
// max_attempts }` (a blocking retry's, and the producer's `retry`), and
// rejects any other key.
BackOff read_back_off(config::YamlSection& section);

}  // namespace whippet::retry
