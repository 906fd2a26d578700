#pragma once

// Reads the SubscribeEvent messages of a Subscribe stream (fanout.proto,
// records.proto) straight into the client's records, without a protobuf
// message in between: each record's bytes are copied once, into records
// kept from the batch before whose strings keep their allocations. Parsed
// through protobuf messages, a batch was walked three times (cleared,
// parsed, copied out), which cost the client more than its reads. Fields it
// does not know are skipped, as protobuf skips them;
// tests/unit/fanout_encoding_test.cc compares it with protobuf's parsing.

#include <cstdint>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "fanout_client.h"

namespace whippet::fanout {

struct SubscribeEventRead {
  enum class Kind { kNone, kStarted, kDeliveries, kAssignment };
  Kind kind = Kind::kNone;
  std::string session_id;            // kStarted
  std::vector<int32_t> assignment;   // kStarted and kAssignment
  std::vector<DeliveredRecord> records;  // kDeliveries; sized to the batch
};

// False when the bytes are not a SubscribeEvent.
bool read_subscribe_event(grpc::ByteBuffer& buffer, SubscribeEventRead& event);
bool read_subscribe_event(const std::string& bytes, SubscribeEventRead& event);

}  // namespace whippet::fanout
