// Producer and consumer throughput through Whippet against raw librdkafka
// with the same properties, in the same run, on the same broker.
//
//   bench/sdk_throughput --brokers 127.0.0.1:9092 [--records 1000000] [--size 100]
//                        [--partitions 8] [--rounds 6] [--warm-up N]
//                        [--only producer|consumer]
//
// Each side runs `rounds` times, alternating, and each round's two sides run
// back to back, under much the same load. The ratio is the median of the
// rounds' own ratios: on a shared 2-core machine one side's single lucky or
// unlucky round (a raw round at 1.82 M records/s among rounds at 1.35-1.56 M)
// would decide a best-of-rounds comparison, which is printed beside it. The
// sides take turns going first (raw in odd rounds: an even count is even).
// An untimed warm-up round comes first: a broker fresh from its start runs
// its first million records at half speed while the JVM compiles its hot
// paths, which would land on whichever side met it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "bench_options.h"
#include "bench_statistics.h"
#include "consumer/consumer_config.h"
#include "kafka/client_config.h"
#include "kafka/handles.h"
#include "producer/producer_config.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"

namespace {

using Clock = std::chrono::steady_clock;
using whippet::bench::process_cpu_seconds;

struct Settings {
  std::string brokers;
  int records = 1000000;
  int size = 100;
  int partitions = 8;
  int rounds = 6;
  // Records each side sends and reads, untimed, before the first round; -1
  // means as many as a round's.
  int warm_up = -1;
  // "producer" or "consumer" runs that side alone (for perf stat); empty: both.
  std::string only;
  // False in the warm-up round, which prints nothing.
  bool report = true;

  bool runs_producers() const { return only != "consumer"; }
  bool runs_consumers() const { return only != "producer"; }
};

Settings parse(int argc, char** argv) {
  Settings settings;
  whippet::bench::BenchOptions options(
      "usage: sdk_throughput --brokers HOST:PORT [--records N] [--size BYTES] [--partitions N] "
      "[--rounds N] [--warm-up N] [--only producer|consumer]\n"
      "  --rounds: timed rounds per side, alternating who goes first (default 6; keep it even)\n"
      "  --warm-up: records per side in an untimed first round (default: --records; 0: none)\n"
      "A real broker is needed: export WHIPPET_BROKERS=$(scripts/kafka start bench)",
      settings.brokers);
  options.add("--records", settings.records)
      .add("--size", settings.size)
      .add("--partitions", settings.partitions)
      .add("--rounds", settings.rounds)
      .add("--warm-up", settings.warm_up)
      .add("--only", settings.only)
      .parse(argc, argv);
  if (settings.brokers.empty()) options.fail("no brokers");
  if (settings.records <= 0 || settings.rounds <= 0 || settings.partitions <= 0) {
    options.fail("--records, --rounds and --partitions must be positive");
  }
  if (settings.size < 0) options.fail("--size must not be negative");
  if (settings.warm_up < -1) options.fail("--warm-up takes a record count, or 0 for none");
  if (settings.warm_up == -1) settings.warm_up = settings.records;
  if (settings.rounds % 2 != 0) {
    std::fprintf(stderr, "sdk_throughput: warning: with an odd --rounds raw goes first once more\n");
  }
  if (!settings.only.empty() && settings.only != "producer" && settings.only != "consumer") {
    options.fail("--only takes producer or consumer");
  }
  return settings;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time and context switches of the whole process (all threads), which
// vary far less than wall-clock rates on a shared machine.
struct ProcessCost {
  double cpu_seconds = process_cpu_seconds();
  long context_switches = context_switches_so_far();
  std::map<int, whippet::bench::ThreadCpu> threads = whippet::bench::thread_cpu_so_far();

  static long context_switches_so_far() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_nvcsw + usage.ru_nivcsw;
  }
};

// `what` is "producer" or "consumer"; the consumer's figure includes joining
// the group.
void print_cost(const char* side, const char* what, const Settings& settings,
                const ProcessCost& before) {
  if (!settings.report) return;
  const ProcessCost after;
  std::printf("  %s %s: %.2f us CPU and %.3f context switches per record (all threads%s)\n", side,
              what, (after.cpu_seconds - before.cpu_seconds) * 1e6 / settings.records,
              static_cast<double>(after.context_switches - before.context_switches) /
                  settings.records,
              std::string_view(what) == "consumer" ? ", group join included" : "");
  // Threads that ended before this point (a client destroyed early) are missing.
  std::printf("    by thread (us a record): %s\n",
              whippet::bench::thread_cost_per_record(before.threads, after.threads,
                                                     settings.records)
                  .c_str());
}

whippet::ClusterOptions cluster_of(const Settings& settings) {
  whippet::ClusterOptions cluster;
  cluster.brokers = settings.brokers;
  cluster.client_id = "whippet-bench";
  return cluster;
}

std::string create_topic(const Settings& settings, const std::string& prefix) {
  whippet::AdminOptions options;
  options.cluster = cluster_of(settings);
  whippet::AdminClient admin(options);
  const auto name = fmt::format("{}-{}", prefix, Clock::now().time_since_epoch().count());
  admin.create_topic({name, settings.partitions, 1, {}});
  return name;
}

// A round's topics go once it ends: a broker keeping every round's records
// fills the disk and the page cache, and writing back older rounds' pages
// slows later ones.
void delete_topics(const Settings& settings, const std::vector<std::string>& names) {
  whippet::AdminOptions options;
  options.cluster = cluster_of(settings);
  whippet::AdminClient admin(options);
  for (const auto& name : names) {
    if (name.empty()) continue;
    try {
      admin.delete_topic(name);
    } catch (const std::exception& error) {
      // The round's figures stand; only the disk pays.
      std::fprintf(stderr, "warning: cannot delete topic %s: %s\n", name.c_str(), error.what());
    }
  }
}

// Stops the bench with what went wrong: figures from a failed round mean
// nothing, and consumers would wait forever for records never written.
[[noreturn]] void give_up(const std::string& why) {
  std::fprintf(stderr, "sdk_throughput: %s\n", why.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  // Without running static destructors: librdkafka's threads, still
  // running, log through spdlog, whose registry they would destroy.
  std::_Exit(1);
}

// --- producers ---------------------------------------------------------------
// Each producer first sends one record and waits for it, untimed (a priming
// record, apart from the --warm-up round): a new client fetches the topic's
// metadata and an idempotent producer id, and the broker may answer
// "coordinator load in progress" and keep it waiting a second, which would
// otherwise land on whichever side met it.
constexpr int kPrimingRecords = 1;

void raw_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  if (message->err) static_cast<std::atomic<int>*>(opaque)->fetch_add(1);
}

double raw_produce(const Settings& settings, const std::string& topic) {
  whippet::ProducerOptions options;
  options.cluster = cluster_of(settings);
  const whippet::ResolvedCluster cluster{settings.brokers, nullptr};
  auto conf = whippet::kafka::build_conf(whippet::producer::producer_properties(cluster, options), {});
  std::atomic<int> failures{0};
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &raw_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &failures);
  auto handle = whippet::kafka::create_client(RD_KAFKA_PRODUCER, std::move(conf));
  const std::string value(static_cast<std::size_t>(settings.size), 'x');
  const auto priming = rd_kafka_producev(
      handle.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (priming != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_flush(handle.get(), 120000) != RD_KAFKA_RESP_ERR_NO_ERROR || failures.load() > 0) {
    give_up("raw producer: the priming record was not delivered to " + topic);
  }
  const ProcessCost cost_before;
  const auto start = Clock::now();
  for (int i = 0; i < settings.records; ++i) {
    const auto key = std::to_string(i);
    for (;;) {
      const auto err = rd_kafka_producev(
          handle.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        failures.fetch_add(1);  // refused outright: never delivered
        break;
      }
      rd_kafka_poll(handle.get(), 10);  // serve delivery reports to make room
    }
    rd_kafka_poll(handle.get(), 0);
  }
  if (rd_kafka_flush(handle.get(), 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    give_up("raw producer: records still undelivered after 120 s");
  }
  const double elapsed = seconds_since(start);
  print_cost("raw", "producer", settings, cost_before);
  if (failures.load() > 0) give_up("raw producer: " + std::to_string(failures.load()) + " failures");
  return settings.records / elapsed;
}

double whippet_produce(const Settings& settings, const std::string& topic) {
  whippet::ProducerOptions options;
  options.cluster = cluster_of(settings);
  whippet::Producer producer(options);
  std::atomic<int> failures{0};
  const std::string value(static_cast<std::size_t>(settings.size), 'x');
  whippet::ProducerRecord priming;
  priming.topic = topic;
  priming.value = value;
  try {
    producer.send(priming).get();
  } catch (const std::exception& error) {
    give_up(std::string("whippet producer: the priming record failed: ") + error.what());
  }
  const ProcessCost cost_before;
  const auto start = Clock::now();
  // One record object, as raw librdkafka's loop reuses its value buffer:
  // the work per record is the same on both sides (a key made, the record
  // copied into librdkafka).
  whippet::ProducerRecord record;
  record.topic = topic;
  record.value = value;
  for (int i = 0; i < settings.records; ++i) {
    record.key = std::to_string(i);
    producer.send(record, [&](const whippet::Result<whippet::RecordMetadata>& result) {
      if (!result.ok()) failures.fetch_add(1);
    });
  }
  try {
    producer.flush(std::chrono::seconds(120));
  } catch (const std::exception& error) {
    give_up(std::string("whippet producer: ") + error.what());
  }
  const double elapsed = seconds_since(start);
  print_cost("whippet", "producer", settings, cost_before);
  if (failures.load() > 0) {
    give_up("whippet producer: " + std::to_string(failures.load()) + " failures");
  }
  return settings.records / elapsed;
}

// --- consumers ---------------------------------------------------------------

// How long a consumer may go without a record before the bench gives up.
constexpr std::chrono::seconds kConsumerPatience{60};

std::string missing_records(const char* side, int received) {
  return std::string(side) + " consumer: no record for " +
         std::to_string(kConsumerPatience.count()) + " s after " + std::to_string(received) +
         " (is the broker up? was every record produced?)";
}
// Both are timed from their first record to their last, so that joining the
// group does not count.

double raw_consume(const Settings& settings, const std::string& topic, const std::string& group) {
  whippet::ConsumerOptions options;
  options.cluster = cluster_of(settings);
  options.group_id = group;
  options.topics = {topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  const ProcessCost cost_before;
  const whippet::ResolvedCluster cluster{settings.brokers, nullptr};
  auto properties = whippet::consumer::consumer_properties(options, cluster);
  properties["enable.auto.commit"] = "true";  // the baseline commits too
  properties["enable.auto.offset.store"] = "true";
  properties["auto.commit.interval.ms"] = "1000";
  auto handle = whippet::kafka::create_client(
      RD_KAFKA_CONSUMER, whippet::kafka::build_conf(properties, {}));
  rd_kafka_poll_set_consumer(handle.get());
  auto subscription = whippet::kafka::make_partition_list(1);
  rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(handle.get(), subscription.get());
  int received = 0;
  std::size_t bytes = 0;
  Clock::time_point first{};
  // The clock is read only when a poll comes back empty: a read per record
  // would slow the baseline.
  int received_when_idle = -1;
  Clock::time_point idle_since{};
  while (received < settings.records + kPrimingRecords) {
    whippet::kafka::MessageHandle message(rd_kafka_consumer_poll(handle.get(), 1000));
    if (!message || message->err) {
      if (received != received_when_idle) {
        received_when_idle = received;
        idle_since = Clock::now();
      } else if (Clock::now() - idle_since > kConsumerPatience) {
        give_up(missing_records("raw", received));
      }
      continue;
    }
    if (received == 0) first = Clock::now();
    bytes += message->len;
    ++received;
  }
  const double elapsed = seconds_since(first);
  print_cost("raw", "consumer", settings, cost_before);
  rd_kafka_consumer_close(handle.get());
  if (bytes == 0 && settings.size > 0) std::fprintf(stderr, "raw consumer read no bytes\n");
  return settings.records / elapsed;
}

double whippet_consume(const Settings& settings, const std::string& topic,
                       const std::string& group) {
  whippet::ConsumerOptions options;
  options.cluster = cluster_of(settings);
  options.group_id = group;
  options.topics = {topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  if (const char* workers = std::getenv("WHIPPET_BENCH_WORKERS")) {
    options.worker_threads = std::stoul(workers);
  }
  if (const char* queued = std::getenv("WHIPPET_BENCH_MAX_QUEUED")) {
    options.max_queued_records_per_partition = std::stoul(queued);
  }
  std::mutex mutex;
  std::condition_variable done;
  std::atomic<int> received{0};
  std::atomic<std::size_t> bytes{0};
  Clock::time_point first{};
  Clock::time_point last{};
  const ProcessCost cost_before;
  whippet::Consumer consumer(options, [&](const whippet::Record& record) {
    bytes.fetch_add(record.value ? record.value->size() : 0, std::memory_order_relaxed);
    const int count = received.fetch_add(1, std::memory_order_relaxed) + 1;
    if (count == 1) {
      std::lock_guard lock(mutex);
      first = Clock::now();
    }
    if (settings.report && settings.records >= 10 && count % (settings.records / 10) == 0 &&
        std::getenv("WHIPPET_BENCH_TIMELINE")) {
      std::printf("  %d records after %.3f s\n", count, seconds_since(first));
    }
    if (count == settings.records + kPrimingRecords) {
      std::lock_guard lock(mutex);
      last = Clock::now();
      done.notify_all();
    }
  });
  {
    std::unique_lock lock(mutex);
    for (int seen = -1; seen != received.load();) {
      seen = received.load();
      if (done.wait_for(lock, kConsumerPatience, [&] { return last != Clock::time_point{}; })) break;
    }
    if (last == Clock::time_point{}) give_up(missing_records("whippet", received.load()));
  }
  print_cost("whippet", "consumer", settings, cost_before);
  const auto stats = consumer.stats();
  consumer.close(std::chrono::seconds(10));
  if (settings.report) {
    std::printf("  whippet consumer: %llu pauses by back-pressure\n",
                static_cast<unsigned long long>(stats.pauses));
  }
  return settings.records / std::chrono::duration<double>(last - first).count();
}

// `what` is "producer" or "consumer".
void print_ratio(const char* what, double best_raw, double best_whippet,
                 const std::vector<double>& round_ratios) {
  std::printf("%s: ratio %.3f (whippet / raw librdkafka, median of %zu rounds); best rounds: "
              "raw %.0f records/s, whippet %.0f records/s, ratio %.3f\n",
              what, whippet::bench::median(round_ratios), round_ratios.size(), best_raw,
              best_whippet, best_whippet / best_raw);
}

// One round's four rates (records/s); a side that did not run stays 0.
struct RoundRates {
  double raw_produce = 0, whippet_produce = 0, raw_consume = 0, whippet_consume = 0;
};

RoundRates run_round(const Settings& settings, int round) {
  const bool producers = settings.runs_producers();
  const bool consumers = settings.runs_consumers();
  const auto raw_topic = create_topic(settings, "bench-raw");
  const auto whippet_topic = producers ? create_topic(settings, "bench-whippet") : "";
  // Whoever goes second finds the broker still writing out the first's
  // records, so the sides take turns going first.
  const bool whippet_first = round % 2 == 0;
  RoundRates rates;
  if (producers && whippet_first) rates.whippet_produce = whippet_produce(settings, whippet_topic);
  // The consumers read what the raw producer wrote, so it runs either way.
  rates.raw_produce = raw_produce(settings, raw_topic);
  if (producers && !whippet_first) rates.whippet_produce = whippet_produce(settings, whippet_topic);
  if (consumers) {
    // Both consumers read the same topic, each in a group of its own.
    const auto whippet_group = raw_topic + "-whippet-group";
    if (whippet_first) rates.whippet_consume = whippet_consume(settings, raw_topic, whippet_group);
    rates.raw_consume = raw_consume(settings, raw_topic, raw_topic + "-raw-group");
    if (!whippet_first) rates.whippet_consume = whippet_consume(settings, raw_topic, whippet_group);
  }
  delete_topics(settings, {raw_topic, whippet_topic});
  return rates;
}

// Runs each side once, timing nothing, with progress on stderr.
void warm_up(const Settings& settings) {
  if (settings.warm_up == 0) return;
  std::fprintf(stderr, "sdk_throughput: warming up the broker and both clients (%d records each)...\n",
               settings.warm_up);
  auto untimed = settings;
  untimed.records = settings.warm_up;
  untimed.report = false;
  // Round 0: Whippet first, then raw first in round 1, and so on.
  run_round(untimed, 0);
}

}  // namespace

int main(int argc, char** argv) {
  const auto settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::printf("sdk_throughput: %d records of %d bytes, %d partitions, %d rounds "
              "after a warm-up of %d\n",
              settings.records, settings.size, settings.partitions, settings.rounds,
              settings.warm_up);
  std::fflush(stdout);  // before the warm-up's progress on stderr
  warm_up(settings);

  RoundRates best;
  // Each round's two sides ran back to back, under much the same load.
  std::vector<double> produce_ratios, consume_ratios;
  for (int round = 1; round <= settings.rounds; ++round) {
    const auto rates = run_round(settings, round);
    std::printf("round %d: produce raw %.0f/s whippet %.0f/s | consume raw %.0f/s whippet %.0f/s\n",
                round, rates.raw_produce, rates.whippet_produce, rates.raw_consume,
                rates.whippet_consume);
    std::fflush(stdout);
    produce_ratios.push_back(rates.whippet_produce / rates.raw_produce);
    consume_ratios.push_back(rates.whippet_consume / rates.raw_consume);
    best.raw_produce = std::max(best.raw_produce, rates.raw_produce);
    best.whippet_produce = std::max(best.whippet_produce, rates.whippet_produce);
    best.raw_consume = std::max(best.raw_consume, rates.raw_consume);
    best.whippet_consume = std::max(best.whippet_consume, rates.whippet_consume);
  }
  // The median of the rounds' own ratios (robust to one side's lucky or
  // unlucky round), and the best round of each side.
  if (settings.runs_producers()) {
    print_ratio("producer", best.raw_produce, best.whippet_produce, produce_ratios);
  }
  if (settings.runs_consumers()) {
    print_ratio("consumer", best.raw_consume, best.whippet_consume, consume_ratios);
  }
  return 0;
}
