#pragma once

// Where one subscriber stands on the partitions this proxy serves. Guarded
// by the mutex of the subscriber's TopicFeed, which moves cursors between
// the shared buffer and the subscriber's private reader.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "partition_buffer.h"

namespace whippet::fanout {

using Clock = std::chrono::steady_clock;

struct InFlightRecord {
  SharedRecord record;
  std::uint32_t attempt = 1;
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
  std::map<int64_t, InFlightRecord> in_flight;  // pushed, not acknowledged
  std::optional<int64_t> committed;             // last committed to Kafka

  // What may be committed: nothing before the oldest record in flight.
  int64_t acknowledged_position() const {
    return in_flight.empty() ? position : in_flight.begin()->first;
  }
};

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
  // Set by the feed under the cut-off policy; the session ends.
  std::optional<std::string> cut_off;
  std::size_t in_flight = 0;
  std::uint64_t evictions = 0;
};

}  // namespace whippet::fanout
