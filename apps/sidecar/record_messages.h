#pragma once

// Records between their gRPC messages and the SDK's types. Conversions
// from a request validate it and throw Error(kInvalidArgument) naming the
// field that is wrong.

#include "whippet/record.h"
#include "whippet/v1/records.pb.h"
#include "whippet/v1/sidecar.pb.h"

namespace whippet::sidecar {

// Kafka's rule: 1 to 249 characters of [a-zA-Z0-9._-], not "." or "..".
void validate_topic_name(const std::string& topic, const std::string& field);

ProducerRecord to_producer_record(const v1::ProduceRequest& request);
void fill_position(const RecordMetadata& metadata, v1::RecordPosition* position);
void fill_consumed_record(const Record& record, v1::ConsumedRecord* message);

}  // namespace whippet::sidecar
