#pragma once

// The outcome of a delivered record, one object for all the records of a
// delivery report: a callback gets it by reference, so that handing a
// record its outcome allocates nothing (a future's copy still copies the
// topic name). A report's records share their topic, whose name is copied
// only when the topic handle changes.

#include <cstdint>

#include <librdkafka/rdkafka.h>

#include "kafka/record_conversion.h"
#include "whippet/record.h"
#include "whippet/result.h"

namespace whippet::producer {

class DeliveredOutcome {
 public:
  // Describes `message`, which was delivered and stored with the timestamp
  // `timestamp_ms`; valid until the next call. Throws std::bad_alloc only
  // when a new topic name cannot be copied.
  const Result<RecordMetadata>& describe(const rd_kafka_message_t& message, int64_t timestamp_ms) {
    auto& metadata = outcome_.value();
    if (message.rkt != named_) {
      metadata.topic = rd_kafka_topic_name(message.rkt);
      named_ = message.rkt;
    }
    metadata.partition = message.partition;
    metadata.offset = message.offset;
    metadata.timestamp = kafka::from_milliseconds(timestamp_ms < 0 ? 0 : timestamp_ms);
    return outcome_;
  }

 private:
  Result<RecordMetadata> outcome_{RecordMetadata{}};
  // The handle whose name outcome_ holds.
  const rd_kafka_topic_t* named_ = nullptr;
};

}  // namespace whippet::producer
