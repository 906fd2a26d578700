#pragma once

#include "kafka/client_config.h"
#include "whippet/consumer.h"

namespace whippet::consumer {

// librdkafka properties for a Whippet consumer. Offsets are committed by
// Whippet alone (auto commit and auto offset store off), so a record counts
// only once its handler has finished.
kafka::Properties consumer_properties(const ConsumerOptions& options,
                                      const ResolvedCluster& cluster);

// Throws Error(kInvalidArgument) naming what is wrong with the options.
void validate(const ConsumerOptions& options);

}  // namespace whippet::consumer
