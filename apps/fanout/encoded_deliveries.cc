#include "encoded_deliveries.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>

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
// Two tags and two lengths before the record's bytes, a tag and a varint after.
constexpr std::size_t kMaxFraming = 2 * (5 + 10);

}  // namespace

EncodedDeliveries::EncodedDeliveries()
    : deliveries_(event_.GetReflection()->MutableUnknownFields(&event_)->AddLengthDelimited(
          v1::SubscribeEvent::kDeliveriesFieldNumber)) {}

void EncodedDeliveries::clear() { deliveries_->clear(); }

void EncodedDeliveries::add(const FanoutRecord& record, std::uint32_t attempt) {
  const auto& encoded = record.encoded;
  const auto record_size = encoded.size();
  const std::size_t delivery_size = CodedOutputStream::VarintSize32(kRecordTag) +
                                    CodedOutputStream::VarintSize64(record_size) + record_size +
                                    CodedOutputStream::VarintSize32(kAttemptTag) +
                                    CodedOutputStream::VarintSize32(attempt);
  std::uint8_t framing[kMaxFraming];
  auto* end = CodedOutputStream::WriteVarint32ToArray(kDeliveryTag, framing);
  end = CodedOutputStream::WriteVarint64ToArray(delivery_size, end);
  end = CodedOutputStream::WriteVarint32ToArray(kRecordTag, end);
  end = CodedOutputStream::WriteVarint64ToArray(record_size, end);
  deliveries_->append(reinterpret_cast<const char*>(framing), static_cast<std::size_t>(end - framing));
  deliveries_->append(encoded);
  end = CodedOutputStream::WriteVarint32ToArray(kAttemptTag, framing);
  end = CodedOutputStream::WriteVarint32ToArray(attempt, end);
  deliveries_->append(reinterpret_cast<const char*>(framing), static_cast<std::size_t>(end - framing));
}

}  // namespace whippet::fanout
