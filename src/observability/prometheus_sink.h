#pragma once

// What a PrometheusSink keeps: one object per label set, holding atomics
// that events update in place, found through a SeriesRegistry.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>
#include <vector>

#include "observability/histogram.h"
#include "observability/labeled_counters.h"
#include "observability/series_registry.h"
#include "observability/striped.h"
#include "whippet/prometheus.h"

namespace whippet::observability {

// Retries of a blocking policy may go on forever; attempts from this one on
// share the label value "10+" so that the attempt label stays bounded.
inline constexpr int kAttemptLabelLimit = 10;

// Error types come from application exceptions: the first 32 are kept.
inline constexpr std::size_t kErrorTypeLimit = 32;

class RetryAttemptCounters {
 public:
  void increment(int attempt) noexcept;
  // (attempt label, count) for every attempt seen, in attempt order.
  std::vector<std::pair<std::string, std::uint64_t>> snapshot() const;

 private:
  // Index 0 holds attempts below 1, which a well-behaved reporter never sends.
  std::array<std::atomic<std::uint64_t>, kAttemptLabelLimit + 1> counts_{};
};

// Keyed by topic, group, handler. Updated on every handled record, from
// every worker: the per-record parts are striped.
struct ConsumerSeries {
  StripedCounter handled;
  std::atomic<std::uint64_t> dead_lettered{0};
  // Every handler run, successful or not: a slow failing handler matters too.
  DurationHistogram handler_duration;
  LabeledCounters failures_by_error_type;
  RetryAttemptCounters retries;
};

// Keyed by group.
struct CommitSeries {
  // Every commit attempt, failed ones included.
  DurationHistogram duration;
  std::atomic<std::uint64_t> failures{0};
};

// Keyed by topic.
struct DeliverySeries {
  // Successful deliveries only; failures are counted by error instead.
  DurationHistogram duration;
  LabeledCounters errors_by_code;
};

// Everything a PrometheusSink holds.
struct SinkState {
  SeriesRegistry<3, ConsumerSeries> consumers;  // topic, group, handler
  SeriesRegistry<1, CommitSeries> commits;      // group
  SeriesRegistry<1, DeliverySeries> deliveries; // topic
  LabelValueLimit error_types{kErrorTypeLimit};

  // render() calls sources under the shared lock, so that removing one
  // (exclusive) waits until no render is still inside it.
  mutable std::shared_mutex sources_mutex;
  std::map<std::uint64_t, metrics::SnapshotSource> snapshot_sources;
  std::map<std::uint64_t, metrics::FamilySource> family_sources;
  std::uint64_t next_source_id = 1;
};

}  // namespace whippet::observability
