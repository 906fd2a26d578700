#pragma once

// Records of one partition encoded once, one after the other, each as the
// complete FanoutDelivery field (attempt 1) of a SubscribeEvent's
// deliveries. A run of consecutive records is then a run of consecutive
// bytes that is already a valid part of the message: every subscriber's
// stream sends a reference to the very same bytes (a gRPC slice that keeps
// the block alive), where each used to copy every record into a message of
// its own and gRPC copied that message again.
//
// A block is written by one thread (the feed, or whoever encodes a record
// of its own) and only ever appended to: bytes once written never change,
// so readers of a record's range need no lock beyond the one that handed
// them the record.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "whippet/record.h"
#include "whippet/v1/records.pb.h"

namespace whippet::fanout {

// Bytes [start, start + size) of a block.
struct BlockRange {
  std::uint32_t start = 0;
  std::uint32_t size = 0;
  std::uint32_t end() const { return start + size; }
};

// Where a record's encoding lies in its block.
struct EncodedPlacement {
  BlockRange delivery;  // the FanoutDelivery field, tag and length included
  BlockRange record;    // its ConsumedRecord message, inside `delivery`
};

class DeliveryBlock {
 public:
  explicit DeliveryBlock(std::size_t capacity);
  DeliveryBlock(const DeliveryBlock&) = delete;
  DeliveryBlock& operator=(const DeliveryBlock&) = delete;

  std::size_t room() const { return capacity_ - size_; }
  // Appends `message` (record_size bytes, its ByteSizeLong) as a first
  // delivery; the caller checked that delivery_size(record_size) bytes fit.
  EncodedPlacement append(const v1::ConsumedRecord& message, std::size_t record_size);
  std::string_view bytes(BlockRange range) const {
    return {bytes_.get() + range.start, range.size};
  }

  // The bytes of a first delivery of a ConsumedRecord of record_size bytes.
  static std::size_t delivery_size(std::size_t record_size);

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

// A record placed in a block, and the block that holds it.
struct PlacedRecord {
  std::shared_ptr<const DeliveryBlock> block;
  EncodedPlacement placement;
};

// Fills blocks of one partition one after the other. Blocks are small
// enough for the allocator to recycle them (below glibc's mmap threshold)
// and large enough that a batch of a few thousand records is a handful of
// references.
class DeliveryBlockWriter {
 public:
  static constexpr std::size_t kBlockCapacity = 64 * 1024;

  PlacedRecord write(const Record& record);

 private:
  std::shared_ptr<DeliveryBlock> current_;
};

// Appends a FanoutDelivery field of `record` (its ConsumedRecord bytes)
// with `attempt` to `out`: what a record pushed again is sent as.
void append_delivery(std::string_view record, std::uint32_t attempt, std::string& out);

// A record in a block of its own, sized to fit it (a private reader's
// records, tests).
PlacedRecord place_alone(const Record& record);

}  // namespace whippet::fanout
