// MetricsReporter::bind_consumer: a bound handle per sink, with a fallback
// that turns label-free calls back into labelled events for sinks that do
// not bind.

#include <memory>
#include <string>
#include <utility>

#include "whippet/metrics.h"

namespace whippet::metrics {
namespace {

// For sinks that only know on_event: keeps one copy of the labels and builds
// the event per call, as reporting without binding would.
class LabelledEventAdapter final : public BoundConsumerSink {
 public:
  LabelledEventAdapter(std::shared_ptr<MetricsSink> sink, ConsumerLabels labels)
      : sink_(std::move(sink)), labels_(std::move(labels)) {}

  void record_handled(std::chrono::nanoseconds duration) noexcept override {
    report([&] { return Event{RecordHandled{labels_, duration}}; });
  }
  void record_failed(std::chrono::nanoseconds duration,
                     std::string_view error_type) noexcept override {
    report([&] { return Event{RecordFailed{labels_, duration, std::string(error_type)}}; });
  }
  void retry_scheduled(int attempt) noexcept override {
    report([&] { return Event{RetryScheduled{labels_, attempt}}; });
  }
  void record_dead_lettered() noexcept override {
    report([&] { return Event{RecordDeadLettered{labels_}}; });
  }

 private:
  template <typename MakeEvent>
  void report(MakeEvent make_event) noexcept {
    try {
      sink_->on_event(make_event());
    } catch (...) {
      // Copying the labels ran out of memory: the event is lost, the
      // handler that reported it is not failed for it.
    }
  }

  std::shared_ptr<MetricsSink> sink_;
  ConsumerLabels labels_;
};

}  // namespace

ConsumerReporter MetricsReporter::bind_consumer(const ConsumerLabels& labels) const {
  std::vector<std::shared_ptr<BoundConsumerSink>> bound;
  bound.reserve(sinks_.size());
  for (const auto& sink : sinks_) {
    auto handle = sink->bind_consumer(labels);
    if (!handle) handle = std::make_shared<LabelledEventAdapter>(sink, labels);
    bound.push_back(std::move(handle));
  }
  return ConsumerReporter(std::move(bound));
}

}  // namespace whippet::metrics
