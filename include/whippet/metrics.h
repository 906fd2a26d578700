#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "whippet/error.h"
#include "whippet/runtime.h"

namespace whippet::metrics {

// Labels every consumer-side event carries. Cardinality stays bounded:
// never a key, an offset or a partition number beyond the partition count.
struct ConsumerLabels {
  std::string topic;
  std::string group;
  std::string handler;
};

// --- typed events (Greyhound's design: the SDK reports, sinks decide) -------

struct RecordHandled {
  ConsumerLabels labels;
  std::chrono::nanoseconds duration{0};
};
struct RecordFailed {
  ConsumerLabels labels;
  std::chrono::nanoseconds duration{0};
  std::string error_type;  // the exception's type name, not its text
};
struct RetryScheduled {
  ConsumerLabels labels;
  int attempt = 0;
};
struct RecordDeadLettered {
  ConsumerLabels labels;
};
struct CommitCompleted {
  std::string group;
  std::chrono::nanoseconds latency{0};
  bool succeeded = true;
};
struct DeliveryCompleted {
  std::string topic;
  std::chrono::nanoseconds latency{0};
  std::optional<ErrorCode> error;  // none when delivered
};

using Event = std::variant<RecordHandled, RecordFailed, RetryScheduled, RecordDeadLettered,
                           CommitCompleted, DeliveryCompleted>;

// The per-record consumer events (RecordHandled, RecordFailed,
// RetryScheduled, RecordDeadLettered) of one label set that a sink resolved
// once (MetricsSink::bind_consumer): a consumer reports these for every
// record, so they carry no labels to copy and look up. Each call counts
// exactly as the matching event with the bound labels given to on_event.
// Called from many threads at once: thread-safe, fast, never throws.
class BoundConsumerSink {
 public:
  virtual ~BoundConsumerSink() = default;
  virtual void record_handled(std::chrono::nanoseconds duration) noexcept = 0;
  virtual void record_failed(std::chrono::nanoseconds duration,
                             std::string_view error_type) noexcept = 0;
  virtual void retry_scheduled(int attempt) noexcept = 0;
  virtual void record_dead_lettered() noexcept = 0;
};

// Receives events on the thread that produced them (a worker, the poll
// thread, the producer's delivery thread): must be thread-safe and fast, and
// must not throw.
class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void on_event(const Event& event) noexcept = 0;

  // Optional: resolves a consumer label set once, for the events reported
  // per record. The default, nullptr, means "send them to on_event with
  // their labels", which every sink understands. What is returned must stay
  // usable for as long as it is held, even after the sink is gone.
  virtual std::shared_ptr<BoundConsumerSink> bind_consumer(const ConsumerLabels& /*labels*/) {
    return nullptr;
  }
};

// Where gauges come from: the runtime snapshots of live consumers, read at
// scrape time rather than pushed.
using SnapshotSource = std::function<std::vector<ConsumerSnapshot>()>;

// A consumer's per-record events for one label set, sent to every sink of
// the reporter it came from (MetricsReporter::bind_consumer). Sinks that
// bind get label-free calls; the others get the usual events, their labels
// copied from the ones kept here. Cheap to copy; thread-safe.
class ConsumerReporter {
 public:
  ConsumerReporter() = default;

  bool enabled() const { return !sinks_.empty(); }
  void record_handled(std::chrono::nanoseconds duration) const noexcept {
    for (const auto& sink : sinks_) sink->record_handled(duration);
  }
  void record_failed(std::chrono::nanoseconds duration, std::string_view error_type) const noexcept {
    for (const auto& sink : sinks_) sink->record_failed(duration, error_type);
  }
  void retry_scheduled(int attempt) const noexcept {
    for (const auto& sink : sinks_) sink->retry_scheduled(attempt);
  }
  void record_dead_lettered() const noexcept {
    for (const auto& sink : sinks_) sink->record_dead_lettered();
  }

 private:
  friend class MetricsReporter;
  explicit ConsumerReporter(std::vector<std::shared_ptr<BoundConsumerSink>> sinks)
      : sinks_(std::move(sinks)) {}

  std::vector<std::shared_ptr<BoundConsumerSink>> sinks_;
};

// The sinks a client reports to. Cheap to copy; empty means no metrics.
class MetricsReporter {
 public:
  MetricsReporter() = default;
  explicit MetricsReporter(std::vector<std::shared_ptr<MetricsSink>> sinks)
      : sinks_(std::move(sinks)) {}

  bool enabled() const { return !sinks_.empty(); }
  void report(const Event& event) const noexcept {
    for (const auto& sink : sinks_) sink->on_event(event);
  }

  // Resolves `labels` with every sink once, for events reported per record.
  // Call it once per label set (a consumer does so once per topic), not per
  // event. May throw std::bad_alloc.
  ConsumerReporter bind_consumer(const ConsumerLabels& labels) const;

 private:
  std::vector<std::shared_ptr<MetricsSink>> sinks_;
};

}  // namespace whippet::metrics
