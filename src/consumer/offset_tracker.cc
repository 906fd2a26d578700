#include "consumer/offset_tracker.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace whippet::consumer {

void OffsetTracker::track(int64_t offset, int64_t timestamp_ms, std::size_t bytes) {
  const int64_t last = window_.empty() ? position_ - 1 : window_.back().offset;
  if (offset <= last) {
    throw std::logic_error("offset " + std::to_string(offset) +
                           " dispatched out of order (after " + std::to_string(last) + ")");
  }
  if (window_.empty()) position_ = offset;
  window_.push_back({offset, timestamp_ms, bytes, false});
  ++pending_;
  pending_bytes_ += bytes;
}

bool OffsetTracker::complete(int64_t offset) {
  auto entry = std::lower_bound(window_.begin(), window_.end(), offset,
                                [](const Entry& e, int64_t value) { return e.offset < value; });
  if (entry == window_.end() || entry->offset != offset || entry->done) return false;
  entry->done = true;
  --pending_;
  pending_bytes_ -= entry->bytes;
  while (!window_.empty() && window_.front().done) {
    position_ = window_.front().offset + 1;
    window_.pop_front();
  }
  if (!window_.empty()) position_ = window_.front().offset;
  return true;
}

std::vector<int64_t> OffsetTracker::completed_above_position() const {
  std::vector<int64_t> completed;
  for (const auto& entry : window_) {
    if (entry.done) completed.push_back(entry.offset);
  }
  return completed;
}

}  // namespace whippet::consumer

namespace whippet::consumer {

std::optional<int64_t> OffsetTracker::oldest_pending_timestamp() const {
  // The front is never completed: completed entries at the front are popped.
  if (window_.empty()) return std::nullopt;
  return window_.front().timestamp_ms;
}

}  // namespace whippet::consumer
