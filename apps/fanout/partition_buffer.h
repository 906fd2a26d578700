#pragma once

// The records of one partition that the proxy has read and its shared
// subscribers may still need, oldest first. Records are shared, not copied:
// a subscriber holding one in flight keeps it alive after it leaves here.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "fanout_record.h"

namespace whippet::fanout {

struct BufferLimits {
  std::size_t max_records = 20000;
  std::size_t max_bytes = 32 * 1024 * 1024;
};

class PartitionBuffer {
 public:
  explicit PartitionBuffer(BufferLimits limits) : limits_(limits) {}

  // Empties the buffer; the next record appended must be at `offset` or later.
  void reset(int64_t offset);
  // Records at or after end() are appended; older ones (fetched before a
  // reset) are dropped and false is returned.
  bool append(SharedRecord record);

  // The oldest offset held (end() when empty) and the next offset expected.
  int64_t start() const { return records_.empty() ? end_ : records_.front()->offset; }
  int64_t end() const { return end_; }
  bool covers(int64_t offset) const { return offset >= start() && offset <= end_; }
  bool full() const;
  std::size_t size() const { return records_.size(); }
  std::size_t bytes() const { return bytes_; }

  // Drops records older than `offset`.
  void trim_below(int64_t offset);
  // Up to max_records records from `offset` on (the first at or after it),
  // appended to `out`, stopping before max_bytes is passed (one record at
  // least). Returns the offset after the last one copied, or `offset`.
  int64_t read(int64_t offset, std::size_t max_records, std::size_t max_bytes,
               std::vector<SharedRecord>& out) const;

 private:
  std::size_t index_of(int64_t offset) const;

  BufferLimits limits_;
  std::deque<SharedRecord> records_;
  std::size_t bytes_ = 0;
  int64_t end_ = 0;
};

}  // namespace whippet::fanout
