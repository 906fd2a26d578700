// Consumer throughput with metrics and trace propagation on against off,
// same run, same records: what observability costs per record.
//
//   bench/observability_overhead [--brokers HOST:PORT] [--records 200000] [--rounds 3]
//
// Without --brokers (or WHIPPET_BROKERS) it runs on the embedded cluster.
// Every record carries a traceparent, so the "on" side parses and installs
// a trace context per record, and reports handled events to a PrometheusSink
// that a scrape renders at the end. Rounds alternate which side goes first
// (a warm page cache or a quiet spell favours neither); the cost printed is
// the median of the rounds' paired ratios, with best-of-each alongside.
// Each side's CPU time per record (all threads of the process, from the
// first record to the last) is printed too: on a shared 2-core machine the
// throughput of one round swings with whatever else runs, the CPU a record
// costs much less.
// The embedded cluster keeps only about 5 MB per partition, so there the
// record count is capped to what it holds.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>


#include <spdlog/spdlog.h>

#include "bench_options.h"
#include "bench_statistics.h"
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
  whippet::bench::BenchOptions(
      "usage: observability_overhead [--brokers HOST:PORT] [--records N] [--rounds N]\n"
      "Without brokers it runs on the embedded cluster.",
      settings.brokers)
      .add("--records", settings.records)
      .add("--rounds", settings.rounds)
      .parse(argc, argv);
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

struct Measurement {
  double records_per_second = 0;
  double cpu_nanoseconds_per_record = 0;
};

Measurement consume(const whippet::ClusterOptions& cluster, const std::string& topic, int records,
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
  double first_cpu = 0;
  double last_cpu = 0;
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
      first_cpu = whippet::bench::process_cpu_seconds();
    }
    if (count == records) {
      std::lock_guard lock(mutex);
      last = Clock::now();
      last_cpu = whippet::bench::process_cpu_seconds();
      done.notify_all();
    }
  });
  {
    std::unique_lock lock(mutex);
    if (!done.wait_for(lock, std::chrono::seconds(120),
                       [&] { return last != Clock::time_point{}; })) {
      std::fprintf(stderr, "timed out after 120 s: %d of %d records arrived\n", received.load(),
                   records);
      std::exit(1);
    }
  }
  consumer.close(std::chrono::seconds(10));
  if (options.propagate_trace_context && traced.load() != records / 1000) {
    std::fprintf(stderr, "observed round did not trace every sampled record (%d of %d)\n",
                 traced.load(), records / 1000);
    std::exit(1);
  }
  return {records / std::chrono::duration<double>(last - first).count(),
          (last_cpu - first_cpu) * 1e9 / records};
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
  // About 150 bytes a record with its traceparent: 4 partitions of 5 MB.
  constexpr int kEmbeddedRecordLimit = 100000;
  const int records = embedded ? std::min(settings.records, kEmbeddedRecordLimit) : settings.records;
  std::printf("observability_overhead: %d records on %s, %d rounds\n", records,
              embedded ? "the embedded cluster" : settings.brokers.c_str(), settings.rounds);
  produce(cluster, topic, records);
  double best_off = 0;
  double best_on = 0;
  std::vector<double> ratios;
  std::vector<double> cpu_ratios;
  // WHIPPET_BENCH_SIDE=on|off consumes with one side only, for a profiler
  // (perf stat, perf record) to compare two runs of the same length.
  const std::string side = std::getenv("WHIPPET_BENCH_SIDE") ? std::getenv("WHIPPET_BENCH_SIDE") : "";
  if (side == "on" || side == "off") {
    for (int round = 1; round <= settings.rounds; ++round) {
      const auto measured = consume(cluster, topic, records, side == "on", round);
      std::printf("round %d: %s %.0f records/s (%.0f ns CPU a record)\n", round, side.c_str(),
                  measured.records_per_second, measured.cpu_nanoseconds_per_record);
    }
    return 0;
  }
  for (int round = 1; round <= settings.rounds; ++round) {
    Measurement off;
    Measurement on;
    if (round % 2 == 1) {
      off = consume(cluster, topic, records, false, round);
      on = consume(cluster, topic, records, true, round);
    } else {
      on = consume(cluster, topic, records, true, round);
      off = consume(cluster, topic, records, false, round);
    }
    std::printf("round %d: off %.0f records/s (%.0f ns CPU a record), on %.0f records/s (%.0f ns), "
                "ratio %.3f\n",
                round, off.records_per_second, off.cpu_nanoseconds_per_record,
                on.records_per_second, on.cpu_nanoseconds_per_record,
                on.records_per_second / off.records_per_second);
    std::fflush(stdout);
    best_off = std::max(best_off, off.records_per_second);
    best_on = std::max(best_on, on.records_per_second);
    ratios.push_back(on.records_per_second / off.records_per_second);
    cpu_ratios.push_back(on.cpu_nanoseconds_per_record / off.cpu_nanoseconds_per_record);
  }
  const double throughput = whippet::bench::median(ratios);
  const double cpu = whippet::bench::median(cpu_ratios);
  std::printf("metrics+tracing: median ratio of paired rounds %.3f (cost %.1f%%); best of each: off "
              "%.0f records/s, on %.0f records/s, ratio %.3f\n",
              throughput, 100.0 * (1.0 - throughput), best_off, best_on, best_on / best_off);
  std::printf("metrics+tracing: median CPU per record on/off %.3f (cost %.1f%%)\n", cpu,
              100.0 * (cpu - 1.0));
  return 0;
}
