#include "kafka/record_conversion.h"

#include <chrono>
#include <cstdint>

namespace whippet::kafka {
namespace {

// librdkafka reports a null key or value as a null pointer; an empty one has
// a non-null pointer and size zero. The two must stay distinct (a null value
// is a tombstone, an empty value is not).
void assign_bytes(const void* data, std::size_t size, std::optional<Bytes>& into) {
  if (data == nullptr) {
    into.reset();
  } else if (into) {
    into->assign(static_cast<const char*>(data), size);
  } else {
    into.emplace(static_cast<const char*>(data), size);
  }
}

void read_headers(const rd_kafka_message_t& message, Headers& headers) {
  // librdkafka's own parse allocates a buffer (and frees it) even to read a
  // count of zero: a tenth of the consumer's CPU with header-less records.
  if (certainly_without_headers(message)) {
    headers.clear();
    return;
  }
  rd_kafka_headers_t* kafka_headers = nullptr;
  // The message keeps ownership of its headers; they are only read here.
  if (rd_kafka_message_headers(&message, &kafka_headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      kafka_headers == nullptr) {
    headers.clear();
    return;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  std::size_t count = 0;
  // Iterating by index keeps wire order and repeated keys, which a lookup by
  // name would lose. Headers already in the list are overwritten in place.
  for (; rd_kafka_header_get_all(kafka_headers, count, &name, &value, &size) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
       ++count) {
    if (count == headers.size()) headers.emplace_back();
    headers[count].key.assign(name);
    assign_bytes(value, size, headers[count].value);
  }
  headers.resize(count);
}

}  // namespace

bool certainly_without_headers(const rd_kafka_message_t& message) {
  // In a v2 record (what every broker since 0.11 writes, and the only
  // format Kafka 4 keeps) the header count follows the value, and
  // librdkafka's payload points into the fetched record, not into a copy:
  // a first byte of zero is a count of zero. A tombstone has no value to
  // look past, and librdkafka's pointer for an empty value is not into the
  // record.
  if (message.payload == nullptr || message.len == 0 || message.len > UINT32_MAX) return false;
  const auto* value = static_cast<const unsigned char*>(message.payload);
  // A legacy v0/v1 message (data an older broker kept from before 0.11) has
  // no headers, and its value may end its buffer: nothing may be read after
  // it. Its value follows its length as a 4-byte big-endian integer, which
  // a v2 record's varint length never equals: in the last four bytes of a
  // varint of two or more bytes, the continuation bits are set where the
  // big-endian length of a value under 2 GiB has zeros. Both formats have at
  // least four bytes before the value.
  const auto length = static_cast<uint32_t>(message.len);
  const bool legacy_length_prefix =
      value[-4] == (length >> 24 & 0xff) && value[-3] == (length >> 16 & 0xff) &&
      value[-2] == (length >> 8 & 0xff) && value[-1] == (length & 0xff);
  if (legacy_length_prefix) return false;
  return value[message.len] == 0;
}

Record to_record(const rd_kafka_message_t& message) {
  Record record;
  fill_record(message, record);
  return record;
}

void fill_record(const rd_kafka_message_t& message, Record& record) {
  if (message.rkt != nullptr) {
    record.topic.assign(rd_kafka_topic_name(message.rkt));
  } else {
    record.topic.clear();
  }
  record.partition = message.partition;
  record.offset = message.offset;
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const int64_t milliseconds = rd_kafka_message_timestamp(&message, &timestamp_type);
  record.timestamp = timestamp_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && milliseconds >= 0
                         ? from_milliseconds(milliseconds)
                         : Timestamp{};
  assign_bytes(message.key, message.key_len, record.key);
  assign_bytes(message.payload, message.len, record.value);
  read_headers(message, record.headers);
}

HeadersHandle to_kafka_headers(const Headers& headers) {
  HeadersHandle kafka_headers(rd_kafka_headers_new(headers.size()));
  for (const auto& header : headers) {
    // rd_kafka_header_add appends (never replaces), so repeated keys survive;
    // a null pointer value is how librdkafka encodes a null header value.
    const void* value = header.value ? header.value->data() : nullptr;
    const auto size = header.value ? static_cast<ssize_t>(header.value->size()) : 0;
    rd_kafka_header_add(kafka_headers.get(), header.key.data(),
                        static_cast<ssize_t>(header.key.size()), value, size);
  }
  return kafka_headers;
}

Timestamp from_milliseconds(int64_t epoch_milliseconds) {
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(
      std::chrono::milliseconds(epoch_milliseconds)));
}

int64_t to_milliseconds(Timestamp timestamp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(timestamp.time_since_epoch())
      .count();
}

}  // namespace whippet::kafka
