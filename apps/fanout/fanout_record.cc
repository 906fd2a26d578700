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
  // The payload less the value, which is kept only inside the encoding.
  memory = encoded.size() + payload - (record.value ? record.value->size() : 0);
  key = std::move(record.key);
  headers = std::move(record.headers);
}

SharedRecord share_record(Record record) {
  return std::make_shared<const FanoutRecord>(std::move(record));
}

}  // namespace whippet::fanout
