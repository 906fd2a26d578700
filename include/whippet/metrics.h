#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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

// Receives events on the thread that produced them (a worker, the poll
// thread, the producer's delivery thread): must be thread-safe and fast, and
// must not throw.
class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void on_event(const Event& event) noexcept = 0;
};

// Where gauges come from: the runtime snapshots of live consumers, read at
// scrape time rather than pushed.
using SnapshotSource = std::function<std::vector<ConsumerSnapshot>()>;

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

 private:
  std::vector<std::shared_ptr<MetricsSink>> sinks_;
};

}  // namespace whippet::metrics
