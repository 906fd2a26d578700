#include "observability/prometheus_sink.h"

#include <algorithm>
#include <exception>
#include <iterator>
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
    auto& series = series_of(state, event.labels);
    add_one(series.handled);
    series.handler_duration.observe(event.duration);
  }
  void operator()(const metrics::RecordFailed& event) const {
    auto& series = series_of(state, event.labels);
    series.handler_duration.observe(event.duration);
    // An empty label value means "no label" to Prometheus; name it instead.
    series.failures_by_error_type.increment(
        event.error_type.empty() ? std::string_view("unknown") : event.error_type,
        &state.error_types);
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

PrometheusSink::PrometheusSink() : state_(std::make_unique<observability::SinkState>()) {}

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

std::string PrometheusSink::render() const {
  std::vector<ConsumerSnapshot> snapshots;
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
  }
  observability::ExpositionWriter writer;
  observability::write_event_metrics(*state_, writer);
  observability::write_snapshot_gauges(snapshots, writer);
  return writer.take();
}

}  // namespace whippet::metrics
