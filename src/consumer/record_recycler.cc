#include "consumer/record_recycler.h"

#include <utility>

namespace whippet::consumer {

std::size_t RecordRecycler::held_bytes(const Record& record) {
  std::size_t bytes = record.topic.capacity() + record.headers.capacity() * sizeof(Header);
  if (record.key) bytes += record.key->capacity();
  if (record.value) bytes += record.value->capacity();
  for (const auto& header : record.headers) {
    bytes += header.key.capacity() + (header.value ? header.value->capacity() : 0);
  }
  return bytes;
}

void RecordRecycler::give_back(std::span<Record> records) {
  std::lock_guard lock(mutex_);
  for (auto& record : records) {
    const auto bytes = held_bytes(record);
    if (bytes > kMaximumRecordBytes) continue;
    if (returned_bytes_ + bytes > max_bytes_) return;
    returned_bytes_ += bytes;
    returned_.push_back(std::move(record));
  }
}

Record RecordRecycler::take() {
  if (ready_.empty()) {
    std::lock_guard lock(mutex_);
    // The emptied vector goes back with its capacity: neither side
    // reallocates once both have grown.
    ready_.swap(returned_);
    returned_bytes_ = 0;
  }
  if (ready_.empty()) return Record{};
  Record record = std::move(ready_.back());
  ready_.pop_back();
  return record;
}

std::size_t RecordRecycler::spare() const {
  std::lock_guard lock(mutex_);
  return ready_.size() + returned_.size();
}

}  // namespace whippet::consumer
