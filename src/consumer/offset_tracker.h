#pragma once

#include <cstddef>
#include <cstdint>
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
  int64_t last_tracked() const { return empty() ? position_ - 1 : at(count_ - 1).offset; }

  // Tracked offsets not yet completed.
  std::size_t pending() const { return pending_; }
  std::size_t pending_bytes() const { return pending_bytes_; }

  // Completed offsets above the committable position, in increasing order.
  std::vector<int64_t> completed_above_position() const;

  // The timestamp of the oldest record not yet completed, if any.
  std::optional<int64_t> oldest_pending_timestamp() const;

  // Entries the window has room for before it grows (memory held).
  std::size_t capacity() const { return ring_.size(); }

 private:
  struct Entry {
    int64_t offset;
    int64_t timestamp_ms;
    std::size_t bytes;
    bool done;
  };
  // The window, increasing offsets, front not done: a ring over a vector
  // that only the poll thread resizes. Entries are added on the poll thread
  // and removed on the workers; a deque would free its blocks on the thread that empties them,
  // and a chunk freed away from the thread that allocated it takes that
  // thread's malloc arena lock.
  bool empty() const { return count_ == 0; }
  Entry& at(std::size_t index) { return ring_[(head_ + index) & (ring_.size() - 1)]; }
  const Entry& at(std::size_t index) const {
    return ring_[(head_ + index) & (ring_.size() - 1)];
  }
  void push_back(const Entry& entry);  // grows, or shrinks once sparse
  void shrink_once_sparse();
  void resize_ring(std::size_t size);
  void pop_front();
  // The index of the first entry whose offset is not below `offset`.
  std::size_t lower_bound(int64_t offset) const;

  std::vector<Entry> ring_;  // its size is zero or a power of two
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  // Since the last resize or check: records pushed, and the most entries held.
  std::size_t window_pushes_ = 0;
  std::size_t window_high_water_ = 0;
  int64_t position_;
  std::size_t pending_ = 0;
  std::size_t pending_bytes_ = 0;
};

}  // namespace whippet::consumer
