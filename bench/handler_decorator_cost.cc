// What the metrics and trace-context decorators add to each record, measured
// on one thread the way a worker runs them (the engine's begin, then the
// decorated handler), against the bare handler in the same run.
//
//   bench/handler_decorator_cost [--records 2000000] [--rounds 5]
//
// No broker: this isolates the per-record cost that observability_overhead
// measures end to end, where a round's throughput also swings with thread
// scheduling and allocator contention on a shared machine.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_options.h"
#include "bench_statistics.h"
#include "consumer/handler_decorators.h"
#include "consumer/handler_start.h"
#include "whippet/prometheus.h"
#include "whippet/trace_context.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string brokers;  // unused: BenchOptions always offers --brokers
  int records = 2000000;
  int rounds = 5;
};

// Distinct records, as a consumer sees them: a topic longer than the
// small-string buffer, a key, a 100-byte value and a traceparent.
std::vector<whippet::Record> sample_records() {
  std::vector<whippet::Record> records(1024);
  const auto root = whippet::TraceContext::new_root();
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto& record = records[i];
    record.topic = "observability-1764123456789012345";
    record.partition = static_cast<int32_t>(i % 4);
    record.offset = static_cast<int64_t>(i);
    record.key = std::to_string(i);
    record.value = std::string(100, 'x');
    root.child().inject(record.headers);
  }
  return records;
}

double nanoseconds_per_record(const whippet::Handler& handler,
                              const std::vector<whippet::Record>& records, int count) {
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    whippet::consumer::handler_start::begin();
    handler(records[static_cast<std::size_t>(i) % records.size()]);
  }
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / count;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  whippet::bench::BenchOptions(
      "usage: handler_decorator_cost [--records N] [--rounds N]\nNo broker needed.",
      settings.brokers)
      .add("--records", settings.records)
      .add("--rounds", settings.rounds)
      .parse(argc, argv);
  const auto records = sample_records();
  long handled = 0;
  const whippet::Handler plain = [&handled](const whippet::Record&) { ++handled; };
  const auto reporter =
      whippet::metrics::MetricsReporter({std::make_shared<whippet::metrics::PrometheusSink>()});
  const auto metered = whippet::consumer::with_metrics(plain, reporter, "group", "handler");
  const auto traced = whippet::consumer::with_trace_context(plain, {});
  // The engine's order: the trace context outside, metrics inside.
  const auto both = whippet::consumer::with_trace_context(metered, {});
  struct Side {
    const char* name;
    const whippet::Handler* handler;
    std::vector<double> added;
  };
  std::vector<Side> sides = {{"metrics", &metered, {}}, {"tracing", &traced, {}},
                             {"both", &both, {}}};
  std::printf("handler_decorator_cost: %d records a side, %d rounds\n", settings.records,
              settings.rounds);
  for (int round = 1; round <= settings.rounds; ++round) {
    // The bare handler is measured right before each decorated one, so a
    // quiet or busy spell touches both sides of every difference.
    for (auto& side : sides) {
      const double bare = nanoseconds_per_record(plain, records, settings.records);
      const double decorated = nanoseconds_per_record(*side.handler, records, settings.records);
      side.added.push_back(decorated - bare);
      std::printf("round %d: bare %.1f ns, %s %.1f ns a record\n", round, bare, side.name,
                  decorated);
    }
  }
  for (const auto& side : sides) {
    std::printf("%s adds %.1f ns a record (median of %d rounds)\n", side.name,
                whippet::bench::median(side.added), settings.rounds);
  }
  return handled > 0 ? 0 : 1;
}
