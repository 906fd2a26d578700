#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace whippet::consumer {

// Tracks one partition's records from dispatch to completion. Completions
// may arrive in any order; the committable position is the end of the
// contiguous completed prefix. Offsets need not be consecutive (compaction
// and transaction markers leave holes), so positions come from the offsets
// actually dispatched. Not thread-safe: PartitionState guards it.
class OffsetTracker {
 public:
  // `start_position` is where consumption of the partition starts (the
  // offset that would be committed if nothing were ever dispatched).
  explicit OffsetTracker(int64_t start_position) : position_(start_position) {}

  // Offsets must be dispatched in increasing order. The record's timestamp
  // (milliseconds since the epoch) tells how old the oldest pending one is;
  // its size (payload bytes) counts towards pending_bytes() until it completes.
  void track(int64_t offset, int64_t timestamp_ms = 0, std::size_t bytes = 0);

  // Returns false if the offset was never tracked or already completed.
  bool complete(int64_t offset);

  // The next offset a new owner should start from: everything below it has
  // completed.
  int64_t committable_position() const { return position_; }

  // The highest offset tracked so far (position - 1 when none is pending).
  int64_t last_tracked() const { return window_.empty() ? position_ - 1 : window_.back().offset; }

  // Tracked offsets not yet completed.
  std::size_t pending() const { return pending_; }
  std::size_t pending_bytes() const { return pending_bytes_; }

  // Completed offsets above the committable position, in increasing order.
  std::vector<int64_t> completed_above_position() const;

  // The timestamp of the oldest record not yet completed, if any.
  std::optional<int64_t> oldest_pending_timestamp() const;

 private:
  struct Entry {
    int64_t offset;
    int64_t timestamp_ms;
    std::size_t bytes;
    bool done;
  };
  std::deque<Entry> window_;  // increasing offsets, front not done
  int64_t position_;
  std::size_t pending_ = 0;
  std::size_t pending_bytes_ = 0;
};

}  // namespace whippet::consumer
