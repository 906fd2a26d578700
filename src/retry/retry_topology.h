#pragma once

#include <map>
#include <string>
#include <vector>

#include "whippet/retry.h"

namespace whippet::retry {

// The retry and dead-letter topics one consumer group uses for its topics,
// and which topic (and retry step) a record came from.
class RetryTopology {
 public:
  RetryTopology() = default;
  // `topics` are the subscribed names; with a pattern subscription only the
  // topics named in the per-topic policies are known up front. Throws
  // Error(kInvalidConfig) when retry topics cannot be named (a pattern with a
  // default policy of RetryTopics).
  RetryTopology(const RetryPolicies& policies, const std::string& group,
                const std::vector<std::string>& topics, bool pattern_subscription);

  struct Origin {
    std::string topic;  // the topic the record was first consumed from
    int step = 0;       // 0: that topic itself; n: its retry topic n
  };
  Origin origin_of(const std::string& topic) const;
  bool is_retry_topic(const std::string& topic) const;

  // To subscribe to, besides the consumer's own topics.
  const std::vector<std::string>& retry_topics() const { return retry_topics_; }
  // To create before consuming: the retry topics and the dead-letter topics
  // of every known topic with a policy that can dead-letter.
  struct TopicToCreate {
    std::string name;
    std::string source;  // the topic whose records it receives
  };
  const std::vector<TopicToCreate>& topics_to_create() const { return topics_to_create_; }

 private:
  std::map<std::string, Origin> retry_topic_origins_;
  std::vector<std::string> retry_topics_;
  std::vector<TopicToCreate> topics_to_create_;
};

}  // namespace whippet::retry
