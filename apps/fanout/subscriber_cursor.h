#pragma once

// Where one subscriber stands on the partitions this proxy serves. Guarded
// by the mutex of the subscriber's TopicFeed, which moves cursors between
// the shared buffer and the subscriber's private reader.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "partition_buffer.h"
#include "whippet/record_reader.h"

namespace whippet::fanout {

using Clock = std::chrono::steady_clock;

struct InFlightRecord {
  int64_t offset = 0;
  SharedRecord record;  // released once acknowledged
  Clock::time_point deadline;
  std::uint32_t attempt = 1;
  bool acknowledged = false;
};

// Records pushed and not yet acknowledged, in offset order (a partition's
// records are pushed in order, and a record pushed again keeps its place).
// A deque rather than a map: no allocation per record, and the oldest
// unacknowledged record, what may be committed, is at the front.
class InFlightRecords {
 public:
  // Strong guarantee: when it throws (std::bad_alloc), nothing changed.
  const InFlightRecord& push(SharedRecord record, Clock::time_point deadline) {
    const auto offset = record->offset;
    records_.push_back({offset, std::move(record), deadline, 1, false});
    ++unacknowledged_;
    return records_.back();
  }
  // Takes back the record pushed last (not acknowledged since).
  void pop_back() noexcept {
    records_.pop_back();
    --unacknowledged_;
  }
  // Acknowledges [first, last]; returns how many were in flight.
  std::size_t acknowledge(int64_t first, int64_t last);
  std::size_t size() const { return unacknowledged_; }
  bool empty() const { return unacknowledged_ == 0; }
  std::optional<int64_t> oldest() const {
    if (records_.empty()) return std::nullopt;
    return records_.front().offset;
  }
  // Records whose deadline passed, pushed again: attempt and deadline move
  // on. `push` returns false when its batch is full; then false is returned
  // and the rest stay expired for the next batch.
  template <class Push>
  bool expire(Clock::time_point now, Clock::time_point next_deadline, Push push) {
    for (auto& entry : records_) {
      if (entry.acknowledged || entry.deadline > now) {
        // First pushes are in deadline order: the rest are younger.
        if (!entry.acknowledged && entry.attempt == 1) break;
        continue;
      }
      if (!push(entry)) return false;
      ++entry.attempt;
      entry.deadline = next_deadline;
    }
    return true;
  }

 private:
  std::deque<InFlightRecord> records_;
  std::size_t unacknowledged_ = 0;
};

struct Cursor {
  enum class Source {
    kShared,   // from the topic's shared buffer
    kPrivate,  // fell out of the buffer: read from Kafka by the subscriber's own reader
  };
  // The next offset to push.
  int64_t position = 0;
  Source source = Source::kShared;
  bool private_reader_assigned = false;
  InFlightRecords in_flight;
  std::optional<int64_t> committed;  // last committed to Kafka

  // What may be committed: nothing from the oldest record in flight on.
  int64_t acknowledged_position() const { return in_flight.oldest().value_or(position); }
};

// Puts `record` (the cursor's next, at its position or past filtered ones)
// in flight with `deadline` and into the message being built
// (`add_to_message(const FanoutRecord&)`), and only then moves the cursor
// past it. Either step may throw (std::bad_alloc): then the cursor is as it
// was, position and records in flight, so the record is neither lost (a
// position past it would be committed when the session ends) nor counted in
// flight without being sent.
template <class AddToMessage>
void queue_first_push(Cursor& cursor, SharedRecord record, Clock::time_point deadline,
                      AddToMessage&& add_to_message) {
  const auto next = record->offset + 1;
  const auto& queued = cursor.in_flight.push(std::move(record), deadline);
  try {
    add_to_message(*queued.record);
  } catch (...) {
    cursor.in_flight.pop_back();
    throw;
  }
  cursor.position = next;  // queued: from here on nothing throws
}

// Everything of one subscriber session that its feed may touch.
struct SessionCursors {
  std::map<int32_t, Cursor> cursors;
  // Assigned to this proxy; the session still has to read its committed
  // position before a cursor exists.
  std::set<int32_t> unpositioned;
  // Partitions the private reader must stop reading (revoked, or rejoined
  // the shared buffer).
  std::set<int32_t> release_from_private;
  bool assignment_changed = false;
  // Set by the feed under the cut-off policy; the session ends and commits
  // these, the acknowledged positions of the cursors the feed removed.
  std::optional<std::string> cut_off;
  std::vector<PartitionOffset> cut_off_positions;
  std::size_t in_flight = 0;
  std::uint64_t evictions = 0;
};

}  // namespace whippet::fanout
