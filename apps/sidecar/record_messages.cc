#include "record_messages.h"

#include <algorithm>
#include <chrono>

#include "whippet/error.h"

namespace whippet::sidecar {
namespace {

constexpr std::size_t kLongestTopicName = 249;

bool legal_topic_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

int64_t to_milliseconds(Timestamp timestamp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(timestamp.time_since_epoch())
      .count();
}

}  // namespace

void validate_topic_name(const std::string& topic, const std::string& field) {
  if (topic.empty()) throw Error(ErrorCode::kInvalidArgument, field + " is empty: name a topic");
  if (topic.size() > kLongestTopicName || topic == "." || topic == ".." ||
      !std::all_of(topic.begin(), topic.end(), legal_topic_character)) {
    throw Error(ErrorCode::kInvalidArgument,
                field + " \"" + topic.substr(0, kLongestTopicName) +
                    "\" is not a legal topic name (1 to 249 of a-z A-Z 0-9 . _ -)");
  }
}

ProducerRecord to_producer_record(const v1::ProduceRequest& request) {
  validate_topic_name(request.topic(), "topic");
  ProducerRecord record;
  record.topic = request.topic();
  if (request.has_key()) record.key = request.key();
  if (request.has_value()) record.value = request.value();
  if (request.has_partition()) {
    if (request.partition() < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "partition " + std::to_string(request.partition()) +
                      " is negative: give a partition number from 0, or none to let the key choose");
    }
    record.partition = request.partition();
  }
  if (request.has_timestamp_ms()) {
    if (request.timestamp_ms() < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "timestamp_ms " + std::to_string(request.timestamp_ms()) +
                      " is negative: give milliseconds since the Unix epoch");
    }
    record.timestamp = Timestamp(std::chrono::milliseconds(request.timestamp_ms()));
  }
  record.headers.reserve(static_cast<std::size_t>(request.headers_size()));
  for (const auto& header : request.headers()) {
    Header converted{header.key(), std::nullopt};
    if (header.has_value()) converted.value = header.value();
    record.headers.push_back(std::move(converted));
  }
  return record;
}

void fill_position(const RecordMetadata& metadata, v1::RecordPosition* position) {
  position->set_topic(metadata.topic);
  position->set_partition(metadata.partition);
  position->set_offset(metadata.offset);
  position->set_timestamp_ms(to_milliseconds(metadata.timestamp));
}

void fill_consumed_record(const Record& record, v1::ConsumedRecord* message) {
  message->set_topic(record.topic);
  message->set_partition(record.partition);
  message->set_offset(record.offset);
  message->set_timestamp_ms(to_milliseconds(record.timestamp));
  if (record.key) message->set_key(*record.key);
  if (record.value) message->set_value(*record.value);
  for (const auto& header : record.headers) {
    auto* added = message->add_headers();
    added->set_key(header.key);
    if (header.value) added->set_value(*header.value);
  }
}

}  // namespace whippet::sidecar
