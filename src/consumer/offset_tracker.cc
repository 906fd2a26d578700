#include "consumer/offset_tracker.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace whippet::consumer {
namespace {
constexpr std::size_t kInitialRing = 64;
}  // namespace

void OffsetTracker::resize_ring(std::size_t size) {
  std::vector<Entry> resized(size);
  for (std::size_t i = 0; i < count_; ++i) resized[i] = at(i);
  ring_ = std::move(resized);
  head_ = 0;
  window_pushes_ = 0;
  window_high_water_ = 0;
}

void OffsetTracker::push_back(const Entry& entry) {
  if (count_ == ring_.size()) {
    resize_ring(ring_.empty() ? kInitialRing : 2 * ring_.size());
  } else if (ring_.size() > kInitialRing) {
    shrink_once_sparse();
  }
  ring_[(head_ + count_) & (ring_.size() - 1)] = entry;
  ++count_;
}

void OffsetTracker::shrink_once_sparse() {
  // A backlog has drained when the ring stayed at most an eighth full for
  // as many records as it holds: give back most of what it took (here, on
  // the poll thread, which allocated it). Judging by the moment instead
  // would shrink and grow again with every fetch of a steady stream, which
  // empties the window between fetches, and copy the window each time.
  // The price: after a burst, a partition whose records then trickle in
  // keeps the burst's ring (32 bytes an entry) for up to twice as many
  // records as it holds.
  window_high_water_ = std::max(window_high_water_, count_ + 1);
  if (++window_pushes_ < ring_.size()) return;
  if (window_high_water_ * 8 <= ring_.size()) {
    return resize_ring(std::max(ring_.size() / 4, kInitialRing));
  }
  window_pushes_ = 0;
  window_high_water_ = 0;
}

void OffsetTracker::pop_front() {
  head_ = (head_ + 1) & (ring_.size() - 1);
  --count_;
}

std::size_t OffsetTracker::lower_bound(int64_t offset) const {
  std::size_t low = 0;
  std::size_t high = count_;
  while (low < high) {
    const auto middle = low + (high - low) / 2;
    if (at(middle).offset < offset) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

void OffsetTracker::track(int64_t offset, int64_t timestamp_ms, std::size_t bytes) {
  const int64_t last = last_tracked();
  if (offset <= last) {
    throw std::logic_error("offset " + std::to_string(offset) +
                           " dispatched out of order (after " + std::to_string(last) + ")");
  }
  if (empty()) position_ = offset;
  push_back({offset, timestamp_ms, bytes, false});
  ++pending_;
  pending_bytes_ += bytes;
}

bool OffsetTracker::complete(int64_t offset) {
  const auto index = lower_bound(offset);
  if (index == count_) return false;
  auto& entry = at(index);
  if (entry.offset != offset || entry.done) return false;
  entry.done = true;
  --pending_;
  pending_bytes_ -= entry.bytes;
  while (!empty() && at(0).done) {
    position_ = at(0).offset + 1;
    pop_front();
  }
  if (!empty()) position_ = at(0).offset;
  return true;
}

std::vector<int64_t> OffsetTracker::completed_above_position() const {
  std::vector<int64_t> completed;
  for (std::size_t i = 0; i < count_; ++i) {
    if (at(i).done) completed.push_back(at(i).offset);
  }
  return completed;
}

std::optional<int64_t> OffsetTracker::oldest_pending_timestamp() const {
  // The front is never completed: completed entries at the front are popped.
  if (empty()) return std::nullopt;
  return at(0).timestamp_ms;
}

}  // namespace whippet::consumer
