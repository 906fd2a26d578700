#include "delivery_block.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>

#include "record_messages.h"
#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {

namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

constexpr auto kLengthDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
// FanoutDeliveries.deliveries[] = FanoutDelivery{record, attempt}
const std::uint32_t kDeliveryTag =
    WireFormatLite::MakeTag(v1::FanoutDeliveries::kDeliveriesFieldNumber, kLengthDelimited);
const std::uint32_t kRecordTag =
    WireFormatLite::MakeTag(v1::FanoutDelivery::kRecordFieldNumber, kLengthDelimited);
const std::uint32_t kAttemptTag =
    WireFormatLite::MakeTag(v1::FanoutDelivery::kAttemptFieldNumber, WireFormatLite::WIRETYPE_VARINT);
// Two tags and two lengths before the record's bytes.
constexpr std::size_t kMaxFramingBefore = 2 * (5 + 10);
constexpr std::size_t kMaxFramingAfter = 5 + 5;

// The FanoutDelivery message's size: its record field and its attempt.
std::size_t delivery_message_size(std::size_t record_size, std::uint32_t attempt) {
  return CodedOutputStream::VarintSize32(kRecordTag) + CodedOutputStream::VarintSize64(record_size) +
         record_size + CodedOutputStream::VarintSize32(kAttemptTag) +
         CodedOutputStream::VarintSize32(attempt);
}

// Writes what comes before the record's bytes; returns the end.
std::uint8_t* write_framing_before(std::size_t record_size, std::uint32_t attempt,
                                   std::uint8_t* out) {
  out = CodedOutputStream::WriteVarint32ToArray(kDeliveryTag, out);
  out = CodedOutputStream::WriteVarint64ToArray(delivery_message_size(record_size, attempt), out);
  out = CodedOutputStream::WriteVarint32ToArray(kRecordTag, out);
  return CodedOutputStream::WriteVarint64ToArray(record_size, out);
}

std::uint8_t* write_framing_after(std::uint32_t attempt, std::uint8_t* out) {
  out = CodedOutputStream::WriteVarint32ToArray(kAttemptTag, out);
  return CodedOutputStream::WriteVarint32ToArray(attempt, out);
}

// One message per thread, cleared and filled again: its strings keep their
// allocations from record to record.
const v1::ConsumedRecord& message_of(const Record& record) {
  thread_local v1::ConsumedRecord message;
  message.Clear();
  sidecar::fill_consumed_record(record, &message);
  return message;
}

}  // namespace

DeliveryBlock::DeliveryBlock(std::size_t capacity)
    : bytes_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}

std::size_t DeliveryBlock::delivery_size(std::size_t record_size) {
  const auto message = delivery_message_size(record_size, 1);
  return CodedOutputStream::VarintSize32(kDeliveryTag) + CodedOutputStream::VarintSize64(message) +
         message;
}

EncodedPlacement DeliveryBlock::append(const v1::ConsumedRecord& message, std::size_t record_size) {
  auto* start = reinterpret_cast<std::uint8_t*>(bytes_.get() + size_);
  auto* record = write_framing_before(record_size, 1, start);
  auto* after = message.SerializeWithCachedSizesToArray(record);
  auto* end = write_framing_after(1, after);
  EncodedPlacement placement;
  placement.delivery = {static_cast<std::uint32_t>(size_), static_cast<std::uint32_t>(end - start)};
  placement.record = {static_cast<std::uint32_t>(size_ + static_cast<std::size_t>(record - start)),
                      static_cast<std::uint32_t>(record_size)};
  size_ += placement.delivery.size;
  return placement;
}

PlacedRecord DeliveryBlockWriter::write(const Record& record) {
  const auto& message = message_of(record);
  const auto record_size = message.ByteSizeLong();
  const auto size = DeliveryBlock::delivery_size(record_size);
  if (!current_ || current_->room() < size) {
    current_ = std::make_shared<DeliveryBlock>(std::max(kBlockCapacity, size));
  }
  return {current_, current_->append(message, record_size)};
}

PlacedRecord place_alone(const Record& record) {
  const auto& message = message_of(record);
  const auto record_size = message.ByteSizeLong();
  auto block = std::make_shared<DeliveryBlock>(DeliveryBlock::delivery_size(record_size));
  const auto placement = block->append(message, record_size);
  return {std::move(block), placement};
}

void append_delivery(std::string_view record, std::uint32_t attempt, std::string& out) {
  std::uint8_t framing[kMaxFramingBefore];
  auto* end = write_framing_before(record.size(), attempt, framing);
  out.append(reinterpret_cast<const char*>(framing), static_cast<std::size_t>(end - framing));
  out.append(record);
  std::uint8_t after[kMaxFramingAfter];
  end = write_framing_after(attempt, after);
  out.append(reinterpret_cast<const char*>(after), static_cast<std::size_t>(end - after));
}

}  // namespace whippet::fanout
