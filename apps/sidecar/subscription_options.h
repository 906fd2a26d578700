#pragma once

// A Subscription message turned into the SDK consumer's options, validated.
// Retry policies go through the SDK's own parser, so the sidecar accepts
// exactly what a YAML configuration would, with the same error messages.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "whippet/consumer.h"
#include "whippet/v1/sidecar.pb.h"

namespace whippet::sidecar {

struct SubscriptionOptions {
  ConsumerOptions consumer;
  std::size_t max_in_flight = 256;
  std::chrono::milliseconds ack_deadline{30000};
  // The topics the consumer reads: the subscribed ones and their retry topics.
  std::vector<std::string> topics_read;
};

struct SubscriptionDefaults {
  ConsumerOptions consumer;  // cluster, commit interval, session timeout, metrics, ...
  std::size_t max_in_flight = 256;
  std::chrono::milliseconds ack_deadline{30000};
};

// Throws Error(kInvalidArgument) naming the field that is wrong.
SubscriptionOptions to_subscription_options(const v1::Subscription& subscription,
                                            const SubscriptionDefaults& defaults);

// The proto's retry policies as the SDK's, validated by parse_retry_policies.
RetryPolicies to_retry_policies(const v1::RetryPolicies& policies);

}  // namespace whippet::sidecar
