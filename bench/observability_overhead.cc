// Consumer throughput with metrics and trace propagation on against off,
// same run, same records: what observability costs per record.
//
//   bench/observability_overhead [--brokers HOST:PORT] [--records 200000] [--rounds 3]
//
// Without --brokers (or WHIPPET_BROKERS) it runs on the embedded cluster.
// Every record carries a traceparent, so the "on" side parses and installs
// a trace context per record, and reports handled events to a PrometheusSink
// that a scrape renders at the end. Rounds alternate off/on; best of each.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"
#include "whippet/prometheus.h"
#include "whippet/trace_context.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string brokers;
  int records = 200000;
  int rounds = 3;
};

Settings parse(int argc, char** argv) {
  Settings settings;
  if (const char* brokers = std::getenv("WHIPPET_BROKERS")) settings.brokers = brokers;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--brokers") settings.brokers = value;
    else if (name == "--records") settings.records = std::stoi(value);
    else if (name == "--rounds") settings.rounds = std::stoi(value);
    else {
      std::fprintf(stderr, "usage: observability_overhead [--brokers B] [--records N] [--rounds N]\n");
      std::exit(2);
    }
  }
  return settings;
}

void produce(const whippet::ClusterOptions& cluster, const std::string& topic, int records) {
  whippet::ProducerOptions options;
  options.cluster = cluster;
  whippet::Producer producer(options);
  const auto root = whippet::TraceContext::new_root();
  const std::string value(100, 'x');
  for (int i = 0; i < records; ++i) {
    whippet::ProducerRecord record;
    record.topic = topic;
    record.key = std::to_string(i);
    record.value = value;
    root.child().inject(record.headers);
    producer.send(std::move(record), [](const whippet::Result<whippet::RecordMetadata>&) {});
  }
  producer.flush(std::chrono::seconds(120));
}

double consume(const whippet::ClusterOptions& cluster, const std::string& topic, int records,
               bool observed, int round) {
  whippet::ConsumerOptions options;
  options.cluster = cluster;
  options.group_id = topic + (observed ? "-on-" : "-off-") + std::to_string(round);
  options.topics = {topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  options.session_timeout = std::chrono::milliseconds(6000);
  options.max_queued_records_per_partition = 100000;
  // WHIPPET_BENCH_ONLY=metrics|tracing turns on one of the two, to tell
  // their costs apart.
  const std::string only = std::getenv("WHIPPET_BENCH_ONLY") ? std::getenv("WHIPPET_BENCH_ONLY") : "";
  options.propagate_trace_context = observed && only != "metrics";
  auto sink = std::make_shared<whippet::metrics::PrometheusSink>();
  if (observed && only != "tracing") options.metrics = whippet::metrics::MetricsReporter({sink});
  std::mutex mutex;
  std::condition_variable done;
  std::atomic<int> received{0};
  std::atomic<int> traced{0};
  Clock::time_point first{};
  Clock::time_point last{};
  whippet::Consumer consumer(options, [&](const whippet::Record&) {
    const int count = received.fetch_add(1, std::memory_order_relaxed) + 1;
    // Checked on a sample: asking for the context parses it, which a handler
    // pays only when it produces; most handlers do not.
    if (count % 1000 == 0 && whippet::current_trace_context() != nullptr) {
      traced.fetch_add(1, std::memory_order_relaxed);
    }
    if (count == 1) {
      std::lock_guard lock(mutex);
      first = Clock::now();
    }
    if (count == records) {
      std::lock_guard lock(mutex);
      last = Clock::now();
      done.notify_all();
    }
  });
  {
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return last != Clock::time_point{}; });
  }
  consumer.close(std::chrono::seconds(10));
  if (options.propagate_trace_context && traced.load() != records / 1000) {
    std::fprintf(stderr, "observed round did not trace every sampled record (%d of %d)\n",
                 traced.load(), records / 1000);
    std::exit(1);
  }
  return records / std::chrono::duration<double>(last - first).count();
}

}  // namespace

int main(int argc, char** argv) {
  const auto settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::shared_ptr<whippet::EmbeddedCluster> embedded;
  whippet::ClusterOptions cluster;
  const std::string topic = "observability-" + std::to_string(Clock::now().time_since_epoch().count());
  if (settings.brokers.empty()) {
    embedded = std::make_shared<whippet::EmbeddedCluster>(whippet::EmbeddedCluster::Options{});
    cluster.brokers = embedded->bootstrap_servers();
    embedded->create_topic(topic, 4);
  } else {
    cluster.brokers = settings.brokers;
    whippet::AdminOptions admin_options;
    admin_options.cluster = cluster;
    whippet::AdminClient(admin_options).create_topic({topic, 4, 1, {}});
  }
  std::printf("observability_overhead: %d records on %s, best of %d rounds\n", settings.records,
              embedded ? "the embedded cluster" : settings.brokers.c_str(), settings.rounds);
  produce(cluster, topic, settings.records);
  double best_off = 0;
  double best_on = 0;
  for (int round = 1; round <= settings.rounds; ++round) {
    const double off = consume(cluster, topic, settings.records, false, round);
    const double on = consume(cluster, topic, settings.records, true, round);
    std::printf("round %d: off %.0f records/s, on %.0f records/s\n", round, off, on);
    std::fflush(stdout);
    best_off = std::max(best_off, off);
    best_on = std::max(best_on, on);
  }
  std::printf("metrics+tracing: off %.0f records/s, on %.0f records/s, ratio %.3f (cost %.1f%%)\n",
              best_off, best_on, best_on / best_off, 100.0 * (1.0 - best_on / best_off));
  return 0;
}
