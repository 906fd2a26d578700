#include "fanout_record.h"

namespace whippet::fanout {

FanoutRecord::FanoutRecord(Record record) : FanoutRecord(std::move(record), place_alone(record)) {}

FanoutRecord::FanoutRecord(Record record, DeliveryBlockWriter& writer)
    : FanoutRecord(std::move(record), writer.write(record)) {}

FanoutRecord::FanoutRecord(Record&& record, PlacedRecord placed_record)
    : partition(record.partition),
      offset(record.offset),
      payload(payload_bytes(record)),
      placed(std::move(placed_record)) {
  // The payload less the value, which is kept only inside the encoding.
  memory = placed.placement.delivery.size + payload - (record.value ? record.value->size() : 0);
  key = std::move(record.key);
  headers = std::move(record.headers);
}

SharedRecord share_record(Record record) {
  return std::make_shared<const FanoutRecord>(std::move(record));
}

SharedRecord share_record(Record record, DeliveryBlockWriter& writer) {
  return std::make_shared<const FanoutRecord>(std::move(record), writer);
}

}  // namespace whippet::fanout
