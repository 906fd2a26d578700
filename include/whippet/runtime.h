#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "whippet/record.h"

namespace whippet {

// One partition of a running consumer, as the control plane sees it.
struct PartitionSnapshot {
  std::string topic;
  int32_t partition = -1;
  std::size_t queued = 0;     // dispatched, waiting for a worker
  std::size_t in_flight = 0;  // handlers running now
  // The longest-running record in progress, and for how long.
  std::optional<int64_t> in_progress_offset;
  double in_progress_seconds = 0;
  std::optional<double> paused_seconds;    // paused by back-pressure, for how long
  std::optional<int64_t> blocked_offset;   // held by a blocking retry policy
  int blocked_attempt = 0;
  std::optional<int64_t> committed_offset; // last committed by this member
  std::vector<int64_t> gaps;               // handled offsets above the committed one
  int64_t high_watermark = -1;             // as last seen by the poll thread
  int64_t lag = 0;                         // records behind the end
  double lag_seconds = 0;                  // age of the oldest record not yet handled
};

// A running consumer: identity, counters and per-partition state.
struct ConsumerSnapshot {
  std::string group;
  std::string handler;  // the name metrics are labelled with
  std::vector<std::string> topics;
  std::string topic_pattern;
  std::string state;    // running, closing, closed, failed
  std::string error;
  std::uint64_t records_handled = 0;
  std::uint64_t handler_failures = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;
  std::uint64_t rebalances = 0;
  std::vector<PartitionSnapshot> partitions;
};

// A record a blocking retry policy is holding its partition on.
struct BlockedRecord {
  TopicPartition partition;
  int64_t offset = -1;
  int attempt = 0;              // attempts made so far
  double blocked_seconds = 0;   // since the first failure
  std::string error;            // the last failure's text
};

// A consumer's blocking state: what is blocked now, and where an operator
// has told it to stop blocking (failures there go to the dead-letter topic).
struct BlockingState {
  std::vector<BlockedRecord> blocked;
  std::vector<TopicPartition> skipping_partitions;
  std::vector<std::string> skipping_topics;
};

nlohmann::json to_json(const BlockedRecord& blocked);
nlohmann::json to_json(const BlockingState& state);
nlohmann::json to_json(const PartitionSnapshot& snapshot);
nlohmann::json to_json(const ConsumerSnapshot& snapshot);

}  // namespace whippet
