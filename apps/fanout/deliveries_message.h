#pragma once

// A SubscribeEvent of deliveries as gRPC sends it: a few bytes of framing,
// then references to the records' first deliveries in their shared blocks
// (delivery_block.h). Consecutive records of one block are one reference,
// so a subscriber's batch of a few thousand records costs a handful of
// slices, and N subscribers send the same bytes without copying them. A
// record pushed again (attempt 2 and later) is framed anew into bytes of
// the message's own. The result parses as an ordinary SubscribeEvent
// (tests/unit/fanout_encoding_test.cc checks it against protobuf).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "fanout_record.h"

namespace whippet::fanout {

class DeliveriesMessage {
 public:
  // Empties the message; its vectors keep their capacity.
  void clear();
  void add(const FanoutRecord& record, std::uint32_t attempt);
  bool empty() const { return pieces_.empty(); }
  // The event, framed; the message may be cleared and reused afterwards
  // (the buffer keeps the blocks it refers to alive).
  grpc::ByteBuffer to_byte_buffer() const;
  // The same bytes, flattened (tests, and callers without gRPC).
  std::string to_string() const;

 private:
  // Bytes of a shared block, or (block empty) of `own_bytes_`.
  struct Piece {
    std::shared_ptr<const DeliveryBlock> block;
    BlockRange range;
  };
  std::string header() const;

  std::vector<Piece> pieces_;
  std::string own_bytes_;
  std::size_t size_ = 0;  // of the deliveries, framing of the event excluded
};

}  // namespace whippet::fanout
