#include "observability/prometheus_sink.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <iterator>
#include <memory>
#include <string_view>
#include <variant>

#include <spdlog/spdlog.h>

#include "observability/event_metrics.h"
#include "observability/exposition_writer.h"
#include "observability/snapshot_gauges.h"

namespace whippet::observability {
namespace {

void add_one(std::atomic<std::uint64_t>& counter) noexcept {
  // Relaxed: a counter orders nothing else, it only has to add up.
  counter.fetch_add(1, std::memory_order_relaxed);
}

ConsumerSeries& series_of(SinkState& state, const metrics::ConsumerLabels& labels) {
  return state.consumers.find_or_create({labels.topic, labels.group, labels.handler});
}

// An empty label value means "no label" to Prometheus; name it instead.
std::string_view error_type_label(std::string_view error_type) {
  return error_type.empty() ? std::string_view("unknown") : error_type;
}

void record_handled(ConsumerSeries& series, std::chrono::nanoseconds duration) noexcept {
  // Once per record: the thread's stripe looked up once for both series.
  const auto& lease = this_thread_stripe_lease();
  series.handled.add(1, lease);
  series.handler_duration.observe(duration, lease);
}

void record_failed(SinkState& state, ConsumerSeries& series, std::chrono::nanoseconds duration,
                   std::string_view error_type) {
  series.handler_duration.observe(duration);
  series.failures_by_error_type.increment(error_type_label(error_type), &state.error_types);
}

// A consumer label set resolved once: the series is found here, not per event.
class BoundConsumerSeries final : public metrics::BoundConsumerSink {
 public:
  BoundConsumerSeries(std::shared_ptr<SinkState> state, ConsumerSeries& series)
      : state_(std::move(state)), series_(series) {}

  void record_handled(std::chrono::nanoseconds duration) noexcept override {
    observability::record_handled(series_, duration);
  }
  void record_failed(std::chrono::nanoseconds duration,
                     std::string_view error_type) noexcept override {
    try {
      observability::record_failed(*state_, series_, duration, error_type);
    } catch (const std::exception& error) {
      // Only a new error type allocates.
      spdlog::warn("metrics event dropped: {}", error.what());
    }
  }
  void retry_scheduled(int attempt) noexcept override { series_.retries.increment(attempt); }
  void record_dead_lettered() noexcept override { add_one(series_.dead_lettered); }

 private:
  std::shared_ptr<SinkState> state_;  // keeps series_ alive
  ConsumerSeries& series_;
};

// "unknown topic" becomes "unknown_topic": label values readable in PromQL.
std::string error_label(ErrorCode code) {
  std::string label(to_string(code));
  for (auto& character : label) {
    if (character == ' ') character = '_';
  }
  return label;
}

// One overload per event type; std::visit picks the right one at compile time.
struct EventRecorder {
  SinkState& state;

  void operator()(const metrics::RecordHandled& event) const {
    record_handled(series_of(state, event.labels), event.duration);
  }
  void operator()(const metrics::RecordFailed& event) const {
    record_failed(state, series_of(state, event.labels), event.duration, event.error_type);
  }
  void operator()(const metrics::RetryScheduled& event) const {
    series_of(state, event.labels).retries.increment(event.attempt);
  }
  void operator()(const metrics::RecordDeadLettered& event) const {
    add_one(series_of(state, event.labels).dead_lettered);
  }
  void operator()(const metrics::CommitCompleted& event) const {
    auto& series = state.commits.find_or_create({event.group});
    series.duration.observe(event.latency);
    if (!event.succeeded) add_one(series.failures);
  }
  void operator()(const metrics::DeliveryCompleted& event) const {
    auto& series = state.deliveries.find_or_create({event.topic});
    if (event.error) {
      series.errors_by_code.increment(error_label(*event.error));
    } else {
      series.duration.observe(event.latency);
    }
  }
};

}  // namespace

void RetryAttemptCounters::increment(int attempt) noexcept {
  const auto index = attempt < 1 ? 0 : std::min(attempt, kAttemptLabelLimit);
  counts_[static_cast<std::size_t>(index)].fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::pair<std::string, std::uint64_t>> RetryAttemptCounters::snapshot() const {
  std::vector<std::pair<std::string, std::uint64_t>> result;
  for (int attempt = 0; attempt <= kAttemptLabelLimit; ++attempt) {
    const auto count = counts_[static_cast<std::size_t>(attempt)].load(std::memory_order_relaxed);
    // A counter appears with its first increment and never goes away.
    if (count == 0) continue;
    auto label = std::to_string(attempt);
    if (attempt == kAttemptLabelLimit) label += "+";
    result.emplace_back(std::move(label), count);
  }
  return result;
}

}  // namespace whippet::observability

namespace whippet::metrics {

PrometheusSink::PrometheusSink() : state_(std::make_shared<observability::SinkState>()) {}

PrometheusSink::~PrometheusSink() = default;

void PrometheusSink::on_event(const Event& event) noexcept {
  try {
    std::visit(observability::EventRecorder{*state_}, event);
  } catch (const std::exception& error) {
    // Only a new label set allocates; losing one event beats failing the
    // handler that reported it.
    spdlog::warn("metrics event dropped: {}", error.what());
  }
}

std::shared_ptr<BoundConsumerSink> PrometheusSink::bind_consumer(const ConsumerLabels& labels) {
  auto& series = observability::series_of(*state_, labels);
  return std::make_shared<observability::BoundConsumerSeries>(state_, series);
}

std::uint64_t PrometheusSink::add_snapshot_source(SnapshotSource source) {
  std::unique_lock lock(state_->sources_mutex);
  const auto id = state_->next_source_id++;
  state_->snapshot_sources.emplace(id, std::move(source));
  return id;
}

void PrometheusSink::remove_snapshot_source(std::uint64_t id) {
  std::unique_lock lock(state_->sources_mutex);
  state_->snapshot_sources.erase(id);
}

std::uint64_t PrometheusSink::add_family_source(FamilySource source) {
  std::unique_lock lock(state_->sources_mutex);
  const auto id = state_->next_source_id++;
  state_->family_sources.emplace(id, std::move(source));
  return id;
}

void PrometheusSink::remove_family_source(std::uint64_t id) {
  std::unique_lock lock(state_->sources_mutex);
  state_->family_sources.erase(id);
}

namespace {

void write_families(const std::vector<MetricFamily>& families,
                    observability::ExpositionWriter& writer) {
  for (const auto& family : families) {
    writer.begin_family(family.name,
                        family.type == MetricFamily::Type::kCounter
                            ? observability::MetricType::kCounter
                            : observability::MetricType::kGauge,
                        family.help);
    std::vector<observability::Label> labels;
    for (const auto& sample : family.samples) {
      labels.assign(sample.labels.begin(), sample.labels.end());
      writer.sample(labels, sample.value);
    }
  }
}

}  // namespace

std::string PrometheusSink::render() const {
  std::vector<ConsumerSnapshot> snapshots;
  std::vector<MetricFamily> families;
  {
    // Shared: concurrent scrapes do not wait for each other, only a removal
    // waits for them.
    std::shared_lock lock(state_->sources_mutex);
    for (const auto& [id, source] : state_->snapshot_sources) {
      try {
        auto more = source();
        snapshots.insert(snapshots.end(), std::make_move_iterator(more.begin()),
                         std::make_move_iterator(more.end()));
      } catch (const std::exception& error) {
        spdlog::warn("metrics snapshot source {} failed, its gauges are left out: {}", id,
                     error.what());
      }
    }
    for (const auto& [id, source] : state_->family_sources) {
      try {
        auto more = source();
        families.insert(families.end(), std::make_move_iterator(more.begin()),
                        std::make_move_iterator(more.end()));
      } catch (const std::exception& error) {
        spdlog::warn("metrics family source {} failed, its metrics are left out: {}", id,
                     error.what());
      }
    }
  }
  observability::ExpositionWriter writer;
  observability::write_event_metrics(*state_, writer);
  observability::write_snapshot_gauges(snapshots, writer);
  write_families(families, writer);
  return writer.take();
}

}  // namespace whippet::metrics
