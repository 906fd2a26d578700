#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace whippet {

// Binary-safe byte string: payloads may hold zero bytes.
using Bytes = std::string;

// Kafka headers are a list: the same key may appear more than once, and
// order is kept end to end.
struct Header {
  std::string key;
  std::optional<Bytes> value;  // a header may carry a null value

  bool operator==(const Header&) const = default;
};
using Headers = std::vector<Header>;

// The value of the last header named `key`, the convention Kafka clients use
// when a key is repeated.
std::optional<Bytes> last_header(const Headers& headers, std::string_view key);

using Timestamp = std::chrono::system_clock::time_point;

// A record as it was read from a topic.
struct Record {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  Timestamp timestamp{};
  std::optional<Bytes> key;
  std::optional<Bytes> value;  // nullopt is a tombstone
  Headers headers;
};

// Key, value and header bytes (not the topic or framing): what byte bounds
// on records in memory count.
std::size_t payload_bytes(const Record& record);

// A record to write. Without a partition the key's hash picks one (records of
// a key stay in one partition); without a key, the partitioner spreads them.
struct ProducerRecord {
  std::string topic;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  Headers headers;
  std::optional<int32_t> partition;
  std::optional<Timestamp> timestamp;
};

// Where the broker stored a record it acknowledged.
struct RecordMetadata {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  Timestamp timestamp{};
};

struct TopicPartition {
  std::string topic;
  int32_t partition = -1;

  auto operator<=>(const TopicPartition&) const = default;
};

// "topic-partition", the way Kafka tools name a partition.
std::string to_string(const TopicPartition& partition);

}  // namespace whippet
