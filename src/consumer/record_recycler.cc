#include "consumer/record_recycler.h"

#include <new>
#include <optional>
#include <string>
#include <utility>

namespace whippet::consumer {

namespace {

// A short string lives inside the object (no heap behind it).
std::size_t heap_bytes(const std::string& text) {
  const auto* inside = reinterpret_cast<const char*>(&text);
  const bool in_place = text.data() >= inside && text.data() < inside + sizeof(text);
  return in_place ? 0 : text.capacity() + 1;
}

std::size_t heap_bytes(const std::optional<Bytes>& bytes) {
  return bytes ? heap_bytes(*bytes) : 0;
}

}  // namespace

std::size_t RecordRecycler::held_bytes(const Record& record) {
  std::size_t bytes = sizeof(Record) + heap_bytes(record.topic) + heap_bytes(record.key) +
                      heap_bytes(record.value) + record.headers.capacity() * sizeof(Header);
  for (const auto& header : record.headers) {
    bytes += heap_bytes(header.key) + heap_bytes(header.value);
  }
  return bytes;
}

void RecordRecycler::give_back(std::span<Record> records) noexcept {
  std::lock_guard lock(mutex_);
  for (auto& record : records) {
    const auto bytes = held_bytes(record);
    if (bytes > kMaximumRecordBytes) continue;
    if (returned_bytes_ + bytes > max_bytes_) return;
    try {
      returned_.push_back(std::move(record));
    } catch (const std::bad_alloc&) {
      return;  // no room for spares: the caller frees the rest
    }
    returned_bytes_ += bytes;
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
