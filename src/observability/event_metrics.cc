#include "observability/event_metrics.h"

#include <array>

namespace whippet::observability {
namespace {

using ConsumerKey = std::array<std::string, 3>;

std::array<Label, 3> consumer_labels(const ConsumerKey& key) {
  return {Label{"topic", key[0]}, Label{"group", key[1]}, Label{"handler", key[2]}};
}

std::array<Label, 4> consumer_labels_and(const ConsumerKey& key, std::string_view name,
                                         std::string_view value) {
  return {Label{"topic", key[0]}, Label{"group", key[1]}, Label{"handler", key[2]},
          Label{name, value}};
}

std::uint64_t read(const std::atomic<std::uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

std::uint64_t read(const StripedCounter& counter) { return counter.load(); }

void write_consumer_metrics(const SinkState& state, ExpositionWriter& writer) {
  const auto& consumers = state.consumers;
  writer.begin_family("whippet_records_handled_total", MetricType::kCounter,
                      "Records whose handler completed without an error.");
  consumers.for_each([&](const ConsumerKey& key, const ConsumerSeries& series) {
    writer.sample(consumer_labels(key), read(series.handled));
  });
  writer.begin_family("whippet_records_failed_total", MetricType::kCounter,
                      "Handler runs that failed, by the error's type (at most 32 types, then "
                      "\"other\").");
  consumers.for_each([&](const ConsumerKey& key, const ConsumerSeries& series) {
    for (const auto& [error_type, count] : series.failures_by_error_type.snapshot()) {
      writer.sample(consumer_labels_and(key, "error_type", error_type), count);
    }
  });
  writer.begin_family("whippet_handler_duration_seconds", MetricType::kHistogram,
                      "Time a handler took per record, successful or not.");
  consumers.for_each([&](const ConsumerKey& key, const ConsumerSeries& series) {
    writer.histogram(consumer_labels(key), series.handler_duration.snapshot());
  });
  writer.begin_family("whippet_retries_total", MetricType::kCounter,
                      "Retries scheduled, by attempt (attempts from 10 on are \"10+\").");
  consumers.for_each([&](const ConsumerKey& key, const ConsumerSeries& series) {
    for (const auto& [attempt, count] : series.retries.snapshot()) {
      writer.sample(consumer_labels_and(key, "attempt", attempt), count);
    }
  });
  writer.begin_family("whippet_dead_lettered_total", MetricType::kCounter,
                      "Records sent to the dead-letter topic.");
  consumers.for_each([&](const ConsumerKey& key, const ConsumerSeries& series) {
    writer.sample(consumer_labels(key), read(series.dead_lettered));
  });
}

void write_commit_metrics(const SinkState& state, ExpositionWriter& writer) {
  using GroupKey = std::array<std::string, 1>;
  writer.begin_family("whippet_commit_duration_seconds", MetricType::kHistogram,
                      "Time an offset commit took, failed ones included.");
  state.commits.for_each([&](const GroupKey& key, const CommitSeries& series) {
    writer.histogram(std::array{Label{"group", key[0]}}, series.duration.snapshot());
  });
  writer.begin_family("whippet_commit_failures_total", MetricType::kCounter,
                      "Offset commits that failed.");
  state.commits.for_each([&](const GroupKey& key, const CommitSeries& series) {
    writer.sample(std::array{Label{"group", key[0]}}, read(series.failures));
  });
}

void write_producer_metrics(const SinkState& state, ExpositionWriter& writer) {
  using TopicKey = std::array<std::string, 1>;
  writer.begin_family("whippet_producer_delivery_duration_seconds", MetricType::kHistogram,
                      "Time from send() to the delivery report, delivered records only.");
  state.deliveries.for_each([&](const TopicKey& key, const DeliverySeries& series) {
    writer.histogram(std::array{Label{"topic", key[0]}}, series.duration.snapshot());
  });
  writer.begin_family("whippet_producer_errors_total", MetricType::kCounter,
                      "Records the producer could not deliver, by error code.");
  state.deliveries.for_each([&](const TopicKey& key, const DeliverySeries& series) {
    for (const auto& [error, count] : series.errors_by_code.snapshot()) {
      writer.sample(std::array{Label{"topic", key[0]}, Label{"error", error}}, count);
    }
  });
}

}  // namespace

void write_event_metrics(const SinkState& state, ExpositionWriter& writer) {
  write_consumer_metrics(state, writer);
  write_commit_metrics(state, writer);
  write_producer_metrics(state, writer);
}

}  // namespace whippet::observability
