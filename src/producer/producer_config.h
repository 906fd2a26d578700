#pragma once

// ProducerOptions become librdkafka producer properties here and nowhere else.

#include <chrono>

#include "kafka/client_config.h"
#include "whippet/producer.h"

namespace whippet::producer {

// Throws Error(kInvalidConfig) naming the option when the options contradict
// each other or are out of range.
void validate(const ProducerOptions& options);

// The full property set: cluster properties, then what the typed options
// imply. The caller applies options.cluster.librdkafka_properties last.
kafka::Properties producer_properties(const ResolvedCluster& cluster,
                                      const ProducerOptions& options);

// How long a record may wait for metadata of a topic that does not exist
// before it fails with kUnknownTopic.
std::chrono::milliseconds unknown_topic_timeout(const ProducerOptions& options);

}  // namespace whippet::producer
