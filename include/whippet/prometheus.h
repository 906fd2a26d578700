#pragma once

// Prometheus for any Whippet process: a metrics sink that aggregates the
// SDK's events into counters and histograms, reads consumer gauges from
// runtime snapshots at scrape time, and an optional HTTP endpoint serving
// the result.
//
//   auto sink = std::make_shared<whippet::metrics::PrometheusSink>();
//   consumer_options.metrics = whippet::metrics::MetricsReporter({sink});
//   whippet::Consumer consumer(consumer_options, handler);
//   auto source = sink->add_snapshot_source([&] { return std::vector{consumer.snapshot()}; });
//   whippet::metrics::MetricsHttpServer server(sink, {.port = 9400});
//   ...
//   sink->remove_snapshot_source(source);  // before the consumer goes away

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "whippet/metrics.h"

namespace whippet::observability {
struct SinkState;  // src/observability/prometheus_sink.h
}

namespace whippet::metrics {

// Metric names, all prefixed whippet_ (label sets in braces):
//   records_handled_total, records_failed_total{+error_type},
//   handler_duration_seconds (histogram), retries_total{+attempt},
//   dead_lettered_total                               {topic,group,handler}
//   commit_duration_seconds (histogram), commit_failures_total   {group}
//   producer_delivery_duration_seconds (histogram)   {topic}
//   producer_errors_total                              {topic,error}
//   consumer_queued_records, consumer_in_flight_records,
//   consumer_longest_running_handler_seconds,
//   consumer_longest_running_handler_offset, consumer_lag_records,
//   consumer_lag_seconds, consumer_paused      {topic,group,handler,partition}
// Label values stay bounded: at most 32 distinct error types per sink (the
// rest are counted as "other") and retry attempts from 10 on share "10+".
// Metrics an application serves beside the SDK's (the fan-out proxy's per
// subscriber gauges, for instance), produced at scrape time.
struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  // name, value
  double value = 0;
};
struct MetricFamily {
  enum class Type { kCounter, kGauge };
  std::string name;  // a valid Prometheus metric name; counters end in _total
  Type type = Type::kGauge;
  std::string help;
  std::vector<MetricSample> samples;
};
using FamilySource = std::function<std::vector<MetricFamily>()>;

class PrometheusSink final : public MetricsSink {
 public:
  PrometheusSink();
  ~PrometheusSink() override;
  PrometheusSink(const PrometheusSink&) = delete;
  PrometheusSink& operator=(const PrometheusSink&) = delete;

  // Thread-safe; a shared lock and a few relaxed atomic increments per event.
  void on_event(const Event& event) noexcept override;

  // The consumer series for these labels, created now: its calls are a few
  // relaxed atomic increments on the calling thread's own cache lines, with
  // no lock and no label lookup. It keeps the series alive on its own.
  std::shared_ptr<BoundConsumerSink> bind_consumer(const ConsumerLabels& labels) override;

  // Gauges come from these sources, called on every render(). A source
  // should be quick, and must not add or remove sources; one that throws is
  // skipped. The id is for remove_snapshot_source.
  std::uint64_t add_snapshot_source(SnapshotSource source);

  // Returns once no render() is calling the source any more, so that the
  // consumer it reads may be destroyed right after. Unknown ids are ignored.
  void remove_snapshot_source(std::uint64_t id);

  // Application families, rendered after the SDK's on every render(); the
  // same rules as snapshot sources. Ids come from the same sequence.
  std::uint64_t add_family_source(FamilySource source);
  void remove_family_source(std::uint64_t id);

  // The Prometheus text exposition format, version 0.0.4. Metrics nothing
  // has reported yet are left out.
  std::string render() const;

 private:
  // Shared with the handles bind_consumer returns.
  std::shared_ptr<observability::SinkState> state_;
};

struct MetricsHttpServerOptions {
  std::string host = "127.0.0.1";  // loopback: expose to others deliberately
  int port = 0;                    // 0: any free port; see MetricsHttpServer::port()
};

// Serves GET /metrics (text/plain; version=0.0.4) and GET /healthz on its own
// thread; other paths answer 404, other methods on these paths 405. Stops
// in the destructor.
class MetricsHttpServer {
 public:
  // Throws whippet::Error(kInvalidArgument) when the address cannot be bound.
  explicit MetricsHttpServer(std::shared_ptr<const PrometheusSink> sink,
                             MetricsHttpServerOptions options = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const;
  // http://host:port, for logs and tests.
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet::metrics
