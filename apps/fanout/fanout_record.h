#pragma once

// A record as the proxy holds it in its buffers and in flight: read once,
// pushed to many subscribers. It is kept encoded, as the v1::ConsumedRecord
// every subscriber receives, so that pushing it copies bytes instead of
// building and serialising a protobuf message per subscriber; besides the
// encoding it keeps only what the proxy itself looks at (positions, and the
// key and headers that filters match), not a second copy of the value.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "whippet/record.h"

namespace whippet::fanout {

struct FanoutRecord {
  explicit FanoutRecord(Record record);

  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<Bytes> key;
  Headers headers;
  std::size_t payload = 0;  // payload_bytes() of the record
  std::string encoded;      // the record's v1::ConsumedRecord wire bytes
  // What the record holds in memory (the encoding, and the key and headers
  // kept beside it for filters): what a buffer's byte bound counts.
  std::size_t memory = 0;
};

using SharedRecord = std::shared_ptr<const FanoutRecord>;

SharedRecord share_record(Record record);

}  // namespace whippet::fanout
