// Key-ordered parallel consumption against partition-ordered, same run, same
// broker: one partition, a handler that sleeps 10 ms. Partition order can do
// about 100 records/s; key order should approach parallelism x that.
//
//   bench/key_ordered_throughput [--brokers HOST:PORT] [--sleep-ms 10]
//                                [--ordered-records 300] [--seconds 4]
//
// Scenarios: parallelism 64 with 1,000 keys, parallelism 256 with 10,000
// keys. Per-key order is checked on every record; peak RSS is printed.
// Without --brokers (or WHIPPET_BROKERS) it runs on the embedded cluster.

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "bench_options.h"
#include <spdlog/spdlog.h>

#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Settings {
  std::string brokers;
  int sleep_ms = 10;
  int ordered_records = 300;
  double seconds = 4;  // how long each parallel scenario's ideal run lasts
};

Settings parse(int argc, char** argv) {
  Settings settings;
  whippet::bench::BenchOptions(
      "usage: key_ordered_throughput [--brokers HOST:PORT] [--sleep-ms 10] "
      "[--ordered-records 300] [--seconds 4]\n"
      "Key-ordered (parallelism 64 / 1,000 keys and 256 / 10,000 keys) against\n"
      "partition-ordered consumption of one partition with a sleeping handler.",
      settings.brokers)
      .add("--sleep-ms", settings.sleep_ms)
      .add("--ordered-records", settings.ordered_records)
      .add("--seconds", settings.seconds)
      .parse(argc, argv);
  return settings;
}

long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

std::string fill_topic(const whippet::ClusterOptions& cluster, int records, int keys) {
  static int next = 0;
  const auto topic = fmt::format("bench-keys-{}-{}", ::getpid(), next++);
  whippet::AdminClient admin(whippet::AdminOptions{cluster});
  admin.create_topic({topic, 1, 1, {}});
  whippet::ProducerOptions options;
  options.cluster = cluster;
  whippet::Producer producer(options);
  for (int i = 0; i < records; ++i) {
    whippet::ProducerRecord record;
    record.topic = topic;
    record.partition = 0;
    record.key = fmt::format("key-{}", i % keys);
    record.value = std::to_string(i);
    producer.send(std::move(record), [](const auto&) {});
  }
  producer.flush(60s);
  return topic;
}

struct Outcome {
  double records_per_second = 0;
  bool in_order = true;
};

// Consumes `records` records of `topic` with a sleeping handler, checking
// that each key's values arrive in increasing order.
Outcome consume(const whippet::ClusterOptions& cluster, const std::string& topic, int records,
                whippet::DispatchMode mode, const Settings& settings) {
  // The order check is striped by key so that it does not become the
  // bottleneck it measures.
  constexpr std::size_t kStripes = 64;
  struct Stripe {
    std::mutex mutex;
    std::unordered_map<std::string, int> last_value_by_key;
  };
  std::vector<Stripe> stripes(kStripes);
  std::mutex mutex;
  std::condition_variable all_done;
  std::atomic<int> handled{0};
  std::atomic<bool> in_order{true};
  std::atomic<Clock::rep> first{0};
  whippet::ConsumerOptions options;
  options.cluster = cluster;
  options.group_id = topic + "-group";
  options.topics = {topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  options.dispatch = mode;
  options.session_timeout = 6s;
  if (const char* queued = std::getenv("WHIPPET_BENCH_MAX_QUEUED")) {
    options.max_queued_records_per_partition = std::stoul(queued);
  }
  const auto sleep = std::chrono::milliseconds(settings.sleep_ms);
  whippet::Consumer consumer(options, [&](const whippet::Record& record) {
    Clock::rep unset = 0;
    first.compare_exchange_strong(unset, Clock::now().time_since_epoch().count());
    std::this_thread::sleep_for(sleep);
    const int value = std::stoi(*record.value);
    {
      auto& stripe = stripes[std::hash<std::string>{}(*record.key) % kStripes];
      std::lock_guard lock(stripe.mutex);
      auto [entry, fresh] = stripe.last_value_by_key.try_emplace(*record.key, value);
      if (!fresh) {
        if (entry->second >= value) in_order.store(false);
        entry->second = value;
      }
    }
    if (++handled == records) {
      std::lock_guard lock(mutex);
      all_done.notify_all();
    }
  });
  std::unique_lock lock(mutex);
  if (!all_done.wait_for(lock, 300s, [&] { return handled.load() >= records; })) {
    std::fprintf(stderr, "timed out: %d of %d handled\n", handled.load(), records);
    std::exit(1);
  }
  // From the first record's start: the group join is not the strategy's cost.
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - Clock::time_point(Clock::duration(first.load())))
          .count();
  lock.unlock();
  consumer.close(10s);
  return {records / elapsed, in_order.load()};
}

}  // namespace

int main(int argc, char** argv) {
  const auto settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  whippet::ClusterOptions cluster;
  cluster.brokers = settings.brokers;  // empty: the embedded cluster
  cluster.client_id = "whippet-bench";

  const auto ordered_topic = fill_topic(cluster, settings.ordered_records, 1000);
  const auto ordered = consume(cluster, ordered_topic, settings.ordered_records,
                               whippet::PartitionOrdered{}, settings);
  fmt::print("partition-ordered: {:.1f} records/s (handler sleeps {} ms)\n",
             ordered.records_per_second, settings.sleep_ms);

  struct Scenario {
    std::size_t parallelism;
    int keys;
    double goal;
  };
  bool all_met = true;
  for (const auto& scenario : {Scenario{64, 1000, 0.98}, Scenario{256, 10000, 0.90}}) {
    const double ideal = ordered.records_per_second * static_cast<double>(scenario.parallelism);
    const int records = static_cast<int>(ideal * settings.seconds);
    const auto topic = fill_topic(cluster, records, scenario.keys);
    const auto parallel = consume(cluster, topic, records, whippet::KeyOrdered{scenario.parallelism},
                                  settings);
    const double ratio = parallel.records_per_second / ordered.records_per_second;
    const double share = parallel.records_per_second / ideal;
    all_met = all_met && share >= scenario.goal && parallel.in_order;
    fmt::print(
        "key-ordered parallelism {:>3}, {:>5} keys, {:>6} records: {:8.1f} records/s = {:6.1f}x "
        "ordered, {:.3f} of ideal (goal {:.2f}), per-key order {}, peak RSS {} MB\n",
        scenario.parallelism, scenario.keys, records, parallel.records_per_second, ratio, share,
        scenario.goal, parallel.in_order ? "kept" : "BROKEN", peak_rss_mb());
  }
  return all_met ? 0 : 1;
}
