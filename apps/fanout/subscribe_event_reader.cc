#include "subscribe_event_reader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <limits>
#include <optional>

#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {

namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

constexpr std::uint32_t tag_of(int field, WireFormatLite::WireType type) {
  return (static_cast<std::uint32_t>(field) << 3) | static_cast<std::uint32_t>(type);
}
constexpr auto kVarint = WireFormatLite::WIRETYPE_VARINT;
constexpr auto kLength = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;

// A declared length must fit in what is left of the enclosing message (the
// whole event is a limit too): a frame claiming more is cut short or forged,
// and reading it would reserve that much memory before finding out.
bool read_length(CodedInputStream& input, int& length) {
  std::uint32_t declared = 0;
  if (!input.ReadVarint32(&declared)) return false;
  const int left = input.BytesUntilLimit();
  if (left < 0 || declared > static_cast<std::uint32_t>(left)) return false;
  length = static_cast<int>(declared);
  return true;
}

// Reads the length-delimited submessage the input is at with `read_fields`,
// which is called with each tag and returns false on malformed input.
template <class ReadField>
bool read_message(CodedInputStream& input, ReadField read_field) {
  int length = 0;
  if (!read_length(input, length) || !input.IncrementRecursionDepth()) return false;
  const auto limit = input.PushLimit(length);
  while (const auto tag = input.ReadTag()) {
    if (!read_field(tag)) return false;
  }
  if (!input.ConsumedEntireMessage()) return false;
  input.PopLimit(limit);
  input.DecrementRecursionDepth();
  return true;
}

bool read_bytes(CodedInputStream& input, std::string& out) {
  int length = 0;
  return read_length(input, length) && input.ReadString(&out, length);
}

// `present` records that the field came: an optional left absent is reset
// only after the message, so that one present keeps its allocation.
bool read_optional_bytes(CodedInputStream& input, std::optional<Bytes>& out, bool& present) {
  present = true;
  if (!out) out.emplace();
  return read_bytes(input, *out);
}

template <class Integer>
bool read_integer(CodedInputStream& input, Integer& out) {
  std::uint64_t value = 0;
  if (!input.ReadVarint64(&value)) return false;
  out = static_cast<Integer>(value);  // int32 and int64 as protobuf truncates them
  return true;
}

bool skip(CodedInputStream& input, std::uint32_t tag) { return WireFormatLite::SkipField(&input, tag); }

bool read_header(CodedInputStream& input, Header& header) {
  header.key.clear();
  bool has_value = false;
  const bool read = read_message(input, [&](std::uint32_t tag) {
    switch (tag) {
      case tag_of(v1::Header::kKeyFieldNumber, kLength): return read_bytes(input, header.key);
      case tag_of(v1::Header::kValueFieldNumber, kLength):
        return read_optional_bytes(input, header.value, has_value);
      default: return skip(input, tag);
    }
  });
  if (!has_value) header.value.reset();
  return read;
}

bool read_record(CodedInputStream& input, Record& record) {
  using Message = v1::ConsumedRecord;
  record.topic.clear();
  record.partition = 0;
  record.offset = 0;
  int64_t timestamp_ms = 0;
  bool has_key = false;
  bool has_value = false;
  std::size_t headers = 0;
  const bool read = read_message(input, [&](std::uint32_t tag) {
    switch (tag) {
      case tag_of(Message::kTopicFieldNumber, kLength): return read_bytes(input, record.topic);
      case tag_of(Message::kPartitionFieldNumber, kVarint):
        return read_integer(input, record.partition);
      case tag_of(Message::kOffsetFieldNumber, kVarint): return read_integer(input, record.offset);
      case tag_of(Message::kTimestampMsFieldNumber, kVarint):
        return read_integer(input, timestamp_ms);
      case tag_of(Message::kKeyFieldNumber, kLength):
        return read_optional_bytes(input, record.key, has_key);
      case tag_of(Message::kValueFieldNumber, kLength):
        return read_optional_bytes(input, record.value, has_value);
      case tag_of(Message::kHeadersFieldNumber, kLength):
        if (record.headers.size() <= headers) record.headers.emplace_back();
        return read_header(input, record.headers[headers++]);
      default: return skip(input, tag);
    }
  });
  if (!has_key) record.key.reset();
  if (!has_value) record.value.reset();
  record.headers.resize(headers);
  record.timestamp = Timestamp(std::chrono::milliseconds(timestamp_ms));
  return read;
}

bool read_delivery(CodedInputStream& input, DeliveredRecord& delivered) {
  delivered.attempt = 0;
  bool has_record = false;
  const bool read = read_message(input, [&](std::uint32_t tag) {
    switch (tag) {
      case tag_of(v1::FanoutDelivery::kRecordFieldNumber, kLength):
        has_record = true;
        return read_record(input, delivered.record);
      case tag_of(v1::FanoutDelivery::kAttemptFieldNumber, kVarint):
        return read_integer(input, delivered.attempt);
      default: return skip(input, tag);
    }
  });
  if (!has_record) {  // as protobuf reads it: a record of defaults
    delivered.record = Record{};
    delivered.record.partition = 0;
    delivered.record.offset = 0;
  }
  return read;
}

bool read_partitions(CodedInputStream& input, std::vector<int32_t>& partitions) {
  partitions.clear();
  return read_message(input, [&](std::uint32_t tag) {
    int32_t partition = 0;
    switch (tag) {
      case tag_of(v1::Assignment::kPartitionsFieldNumber, kVarint):
        if (!read_integer(input, partition)) return false;
        partitions.push_back(partition);
        return true;
      case tag_of(v1::Assignment::kPartitionsFieldNumber, kLength): {  // packed, as proto3 writes them
        int length = 0;
        if (!read_length(input, length)) return false;
        const auto limit = input.PushLimit(length);
        while (input.BytesUntilLimit() > 0) {
          if (!read_integer(input, partition)) return false;
          partitions.push_back(partition);
        }
        input.PopLimit(limit);
        return true;
      }
      default: return skip(input, tag);
    }
  });
}

bool read_started(CodedInputStream& input, SubscribeEventRead& event) {
  event.session_id.clear();
  event.assignment.clear();
  return read_message(input, [&](std::uint32_t tag) {
    switch (tag) {
      case tag_of(v1::SessionStarted::kSessionIdFieldNumber, kLength):
        return read_bytes(input, event.session_id);
      case tag_of(v1::SessionStarted::kAssignmentFieldNumber, kLength):
        return read_partitions(input, event.assignment);
      default: return skip(input, tag);  // the proxy's id among them
    }
  });
}

bool read_deliveries(CodedInputStream& input, std::vector<DeliveredRecord>& records,
                     std::size_t& count) {
  return read_message(input, [&](std::uint32_t tag) {
    if (tag != tag_of(v1::FanoutDeliveries::kDeliveriesFieldNumber, kLength)) {
      return skip(input, tag);
    }
    if (records.size() <= count) records.emplace_back();
    return read_delivery(input, records[count++]);
  });
}

bool read_event(CodedInputStream& input, std::size_t size, SubscribeEventRead& event) {
  using Kind = SubscribeEventRead::Kind;
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  input.PushLimit(static_cast<int>(size));  // what read_length measures against
  event.kind = Kind::kNone;
  std::size_t count = 0;
  while (const auto tag = input.ReadTag()) {
    bool read = true;
    switch (tag) {
      case tag_of(v1::SubscribeEvent::kStartedFieldNumber, kLength):
        event.kind = Kind::kStarted;
        read = read_started(input, event);
        break;
      case tag_of(v1::SubscribeEvent::kDeliveriesFieldNumber, kLength):
        event.kind = Kind::kDeliveries;
        read = read_deliveries(input, event.records, count);
        break;
      case tag_of(v1::SubscribeEvent::kAssignmentFieldNumber, kLength):
        event.kind = Kind::kAssignment;
        read = read_partitions(input, event.assignment);
        break;
      default:
        read = skip(input, tag);
    }
    if (!read) return false;
  }
  // Records left from a larger batch before are dropped only now, so that
  // the ones kept were parsed into without allocating.
  if (event.kind == Kind::kDeliveries) event.records.resize(count);
  return input.ConsumedEntireMessage();
}

}  // namespace

bool read_subscribe_event(grpc::ByteBuffer& buffer, SubscribeEventRead& event) {
  grpc::ProtoBufferReader reader(&buffer);
  if (!reader.status().ok()) return false;
  CodedInputStream input(&reader);
  return read_event(input, buffer.Length(), event);
}

bool read_subscribe_event(const std::string& bytes, SubscribeEventRead& event) {
  CodedInputStream input(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                         static_cast<int>(bytes.size()));
  return read_event(input, bytes.size(), event);
}

}  // namespace whippet::fanout
