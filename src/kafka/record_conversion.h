#pragma once

// Conversions between Whippet's records and librdkafka's messages.

#include "kafka/handles.h"
#include "whippet/record.h"

namespace whippet::kafka {

// Copies a consumed message (its topic, partition, offset, timestamp, key,
// value and every header, in order) into a Record.
Record to_record(const rd_kafka_message_t& message);

// The same into an existing record, overwriting every field: its strings
// are reused where their capacity suffices (see consumer::RecordRecycler).
void fill_record(const rd_kafka_message_t& message, Record& record);

// True when a consumed message certainly has no headers, found without
// librdkafka's parse (which allocates even to read a count of zero). False
// means "ask librdkafka": always so for a tombstone or an empty value.
bool certainly_without_headers(const rd_kafka_message_t& message);

// A header list librdkafka can take ownership of (with repeated keys kept).
HeadersHandle to_kafka_headers(const Headers& headers);

Timestamp from_milliseconds(int64_t epoch_milliseconds);
int64_t to_milliseconds(Timestamp timestamp);

}  // namespace whippet::kafka
