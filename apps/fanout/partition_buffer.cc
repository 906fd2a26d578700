#include "partition_buffer.h"

#include <algorithm>

namespace whippet::fanout {

void PartitionBuffer::reset(int64_t offset) {
  records_.clear();
  bytes_ = 0;
  end_ = offset;
}

bool PartitionBuffer::append(SharedRecord record) {
  if (record->offset < end_) return false;
  end_ = record->offset + 1;
  bytes_ += record->memory;
  records_.push_back(std::move(record));
  return true;
}

bool PartitionBuffer::full() const {
  return records_.size() >= limits_.max_records || bytes_ >= limits_.max_bytes;
}

void PartitionBuffer::trim_below(int64_t offset) {
  while (!records_.empty() && records_.front()->offset < offset) {
    bytes_ -= records_.front()->memory;
    records_.pop_front();
  }
}

std::size_t PartitionBuffer::index_of(int64_t offset) const {
  // Offsets rise but may skip (compaction, transaction markers).
  const auto found = std::lower_bound(
      records_.begin(), records_.end(), offset,
      [](const SharedRecord& record, int64_t wanted) { return record->offset < wanted; });
  return static_cast<std::size_t>(found - records_.begin());
}

int64_t PartitionBuffer::read(int64_t offset, std::size_t max_records, std::size_t max_bytes,
                              std::vector<SharedRecord>& out) const {
  std::size_t bytes = 0;
  std::size_t taken = 0;
  int64_t next = offset;
  for (auto index = index_of(offset); index < records_.size() && taken < max_records; ++index) {
    const auto& record = records_[index];
    const auto size = record->payload;
    if (taken > 0 && bytes + size > max_bytes) break;
    bytes += size;
    ++taken;
    out.push_back(record);
    next = record->offset + 1;
  }
  return next;
}

}  // namespace whippet::fanout
