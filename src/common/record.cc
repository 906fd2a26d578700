#include "whippet/record.h"

#include <algorithm>

namespace whippet {

std::size_t payload_bytes(const Record& record) {
  std::size_t bytes = (record.key ? record.key->size() : 0) +
                      (record.value ? record.value->size() : 0);
  for (const auto& header : record.headers) {
    bytes += header.key.size() + (header.value ? header.value->size() : 0);
  }
  return bytes;
}

std::optional<Bytes> last_header(const Headers& headers, std::string_view key) {
  // Searching from the back finds the last occurrence first: Kafka clients
  // treat the last of repeated keys as the current value.
  const auto found = std::find_if(headers.rbegin(), headers.rend(),
                                  [key](const Header& header) { return header.key == key; });
  if (found == headers.rend()) return std::nullopt;
  return found->value;
}

std::string to_string(const TopicPartition& partition) {
  return partition.topic + "-" + std::to_string(partition.partition);
}

}  // namespace whippet
