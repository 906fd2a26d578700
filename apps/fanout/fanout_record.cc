#include "fanout_record.h"

#include "record_messages.h"

namespace whippet::fanout {

namespace {

std::string encode(const Record& record) {
  // One message per thread, cleared and filled again: its strings keep their
  // allocations from record to record.
  thread_local v1::ConsumedRecord message;
  message.Clear();
  sidecar::fill_consumed_record(record, &message);
  return message.SerializeAsString();
}

}  // namespace

FanoutRecord::FanoutRecord(Record record)
    : partition(record.partition),
      offset(record.offset),
      payload(payload_bytes(record)),
      encoded(encode(record)) {
  key = std::move(record.key);
  headers = std::move(record.headers);
}

SharedRecord share_record(Record record) {
  return std::make_shared<const FanoutRecord>(std::move(record));
}

std::size_t payload_bytes(const Record& record) {
  std::size_t bytes = (record.key ? record.key->size() : 0) +
                      (record.value ? record.value->size() : 0);
  for (const auto& header : record.headers) {
    bytes += header.key.size() + (header.value ? header.value->size() : 0);
  }
  return bytes;
}

}  // namespace whippet::fanout
