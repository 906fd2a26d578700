#include "deliveries_message.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {

namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

// SubscribeEvent.deliveries: a FanoutDeliveries whose fields are the pieces.
const std::uint32_t kDeliveriesTag = WireFormatLite::MakeTag(
    v1::SubscribeEvent::kDeliveriesFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);

// The slice's reference to the block, released by gRPC once it sent it.
void release_block(void* reference) {
  delete static_cast<std::shared_ptr<const DeliveryBlock>*>(reference);
}

}  // namespace

void DeliveriesMessage::clear() {
  pieces_.clear();
  own_bytes_.clear();
  size_ = 0;
}

void DeliveriesMessage::add(const FanoutRecord& record, std::uint32_t attempt) {
  if (attempt == 1) {
    const auto& range = record.placed.placement.delivery;
    // Right after the previous piece in the same block: one piece for both.
    if (!pieces_.empty() && pieces_.back().block == record.placed.block &&
        pieces_.back().range.end() == range.start) {
      pieces_.back().range.size += range.size;
    } else {
      pieces_.push_back({record.placed.block, range});
    }
    size_ += range.size;
    return;
  }
  const auto start = own_bytes_.size();
  append_delivery(record.encoded(), attempt, own_bytes_);
  const auto size = own_bytes_.size() - start;
  if (!pieces_.empty() && !pieces_.back().block && pieces_.back().range.end() == start) {
    pieces_.back().range.size += static_cast<std::uint32_t>(size);
  } else {
    pieces_.push_back({nullptr, {static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(size)}});
  }
  size_ += size;
}

std::string DeliveriesMessage::header() const {
  std::uint8_t framing[5 + 10];
  auto* end = CodedOutputStream::WriteVarint32ToArray(kDeliveriesTag, framing);
  end = CodedOutputStream::WriteVarint64ToArray(size_, end);
  return {reinterpret_cast<const char*>(framing), static_cast<std::size_t>(end - framing)};
}

grpc::ByteBuffer DeliveriesMessage::to_byte_buffer() const {
  std::vector<grpc::Slice> slices;
  slices.reserve(pieces_.size() + 1);
  const auto framing = header();
  slices.emplace_back(framing.data(), framing.size());  // copied: a few bytes
  for (const auto& piece : pieces_) {
    if (!piece.block) {
      // Records pushed again: rare, and copied, so the message can be reused.
      slices.emplace_back(own_bytes_.data() + piece.range.start, piece.range.size);
      continue;
    }
    const auto bytes = piece.block->bytes(piece.range);
    // gRPC only reads the bytes; the block stays alive until it is done.
    slices.emplace_back(const_cast<char*>(bytes.data()), bytes.size(), &release_block,
                        new std::shared_ptr<const DeliveryBlock>(piece.block));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string DeliveriesMessage::to_string() const {
  auto bytes = header();
  for (const auto& piece : pieces_) {
    if (piece.block) {
      bytes.append(piece.block->bytes(piece.range));
    } else {
      bytes.append(own_bytes_, piece.range.start, piece.range.size);
    }
  }
  return bytes;
}

}  // namespace whippet::fanout
