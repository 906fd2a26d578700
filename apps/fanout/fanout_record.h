#pragma once

// A record as the proxy holds it in its buffers and in flight: read once,
// pushed to many subscribers. It is kept encoded, as the FanoutDelivery
// every subscriber receives, in a block shared with the records read after
// it (delivery_block.h), so that pushing it to a subscriber sends a
// reference to those bytes instead of building and serialising a protobuf
// message per subscriber; besides the encoding it keeps only what the proxy
// itself looks at (positions, and the key and headers that filters match),
// not a second copy of the value.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "delivery_block.h"
#include "whippet/record.h"

namespace whippet::fanout {

struct FanoutRecord {
  // Encoded in a block of its own.
  explicit FanoutRecord(Record record);
  // Encoded after the records `writer` wrote before.
  FanoutRecord(Record record, DeliveryBlockWriter& writer);

  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<Bytes> key;
  Headers headers;
  std::size_t payload = 0;  // payload_bytes() of the record
  PlacedRecord placed;      // its first delivery's bytes, and the block holding them
  // What the record holds in memory (its encoding, and the key and headers
  // kept beside it for filters): what a buffer's byte bound counts.
  std::size_t memory = 0;

  // The record's v1::ConsumedRecord wire bytes.
  std::string_view encoded() const { return placed.block->bytes(placed.placement.record); }
  // Its FanoutDelivery field with attempt 1, as it goes into a message.
  std::string_view first_delivery() const { return placed.block->bytes(placed.placement.delivery); }

 private:
  // `record` is moved from only once the placement (which reads it) exists.
  FanoutRecord(Record&& record, PlacedRecord placed_record);
};

using SharedRecord = std::shared_ptr<const FanoutRecord>;

SharedRecord share_record(Record record);
SharedRecord share_record(Record record, DeliveryBlockWriter& writer);

}  // namespace whippet::fanout
