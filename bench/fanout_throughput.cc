// The fan-out proxy against independent consumer groups, same run, same
// data, same broker:
//   direct: `subscribers` raw librdkafka consumers (C API, Whippet's consumer
//           properties, auto-commit on), each in a group of its own, all
//           reading the topic from the beginning at the same time;
//   proxy:  an in-process FanoutServer and `subscribers` FanoutClients
//           (distinct subscriber names, EARLIEST, each on a connection of
//           its own), all at the same time.
// Both read every record. Compared: the bytes the broker sent (librdkafka's
// rx_bytes: each direct consumer's, the proxy's feed and private readers'
// from its snapshot; and, given --broker-pid, the bytes the broker process
// wrote, sendfile included), the throughput of each subscriber (first record
// to last, so group joins do not count) and the process CPU.
//
//   bench/fanout_throughput --brokers 127.0.0.1:9092 [--records 400000] [--size 100]
//       [--partitions 8] [--subscribers 8] [--max-in-flight 20000]
//       [--buffer-records 200000] [--timeout 120] [--broker-pid PID] [--proxy-first 0|1]
//   WHIPPET_BENCH_SIDE=proxy|direct: that side only (for perf), no comparison.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bench_options.h"
#include "bench_statistics.h"
#include "consumer/consumer_config.h"
#include "fanout_client.h"
#include "fanout_server.h"
#include "kafka/client_config.h"
#include "kafka/handles.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"

namespace {

using Clock = std::chrono::steady_clock;
using whippet::bench::process_cpu_seconds;
using namespace std::chrono_literals;

// librdkafka emits statistics this often; a reading is final once one more
// emission arrived after the last record.
constexpr int kStatisticsIntervalMs = 500;
// The proxy's readers refresh their byte counts every second
// (RecordReaderOptions::statistics_interval): wait a little longer.
constexpr auto kProxyStatisticsSettle = 2500ms;

struct Settings {
  std::string brokers;
  int records = 400000;
  int size = 100;
  int partitions = 8;
  int subscribers = 8;
  int max_in_flight = 20000;
  int buffer_records = 200000;
  int timeout = 120;  // seconds, per phase
  int broker_pid = 0;
  int proxy_first = 0;
};

Settings parse(int argc, char** argv) {
  Settings settings;
  whippet::bench::BenchOptions options(
      "usage: fanout_throughput --brokers HOST:PORT [--records N] [--size BYTES] "
      "[--partitions N] [--subscribers N] [--max-in-flight N] [--buffer-records N] "
      "[--timeout SECONDS] [--broker-pid PID] [--proxy-first 0|1]\n"
      "A real broker is needed: export WHIPPET_BROKERS=$(scripts/kafka start bench)\n"
      "--broker-pid (e.g. $(scripts/kafka status bench | awk '{print $4}')) adds the bytes the\n"
      "broker process wrote (/proc/PID/io wchar, sendfile included) and its CPU time.",
      settings.brokers);
  options.add("--records", settings.records)
      .add("--size", settings.size)
      .add("--partitions", settings.partitions)
      .add("--subscribers", settings.subscribers)
      .add("--max-in-flight", settings.max_in_flight)
      .add("--buffer-records", settings.buffer_records)
      .add("--timeout", settings.timeout)
      .add("--broker-pid", settings.broker_pid)
      .add("--proxy-first", settings.proxy_first)
      .parse(argc, argv);
  if (settings.brokers.empty()) options.fail("no brokers: pass --brokers or set WHIPPET_BROKERS");
  if (settings.records < 1 || settings.size < 1 || settings.partitions < 1 ||
      settings.subscribers < 1 || settings.max_in_flight < 1 || settings.buffer_records < 1 ||
      settings.timeout < 1) {
    options.fail("counts, sizes and the timeout must be at least 1");
  }
  return settings;
}

[[noreturn]] void abort_run(const std::string& problem) {
  std::fprintf(stderr, "fanout_throughput: %s\n", problem.c_str());
  std::fflush(stdout);
  std::_Exit(1);  // threads may still be blocked on the broker: no orderly teardown
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// --- process and broker resources ----------------------------------------------

struct BrokerSample {
  std::uint64_t written = 0;  // wchar: write(), send() and sendfile() bytes
  double cpu_seconds = 0;
};

std::optional<BrokerSample> sample_broker(int pid) {
  if (pid <= 0) return std::nullopt;
  BrokerSample sample;
  std::ifstream io(fmt::format("/proc/{}/io", pid));
  std::string name;
  std::uint64_t value = 0;
  bool found = false;
  while (io >> name >> value) {
    if (name == "wchar:") {
      sample.written = value;
      found = true;
    }
  }
  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto after_name = stat.rfind(')');
  if (!found || after_name == std::string::npos) {
    abort_run(fmt::format("--broker-pid {}: cannot read /proc/{}/io and stat", pid, pid));
  }
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  std::uint64_t user = 0, system = 0;
  // state is field 3; utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) user = std::stoull(field);
    if (index == 15) system = std::stoull(field);
  }
  sample.cpu_seconds = static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return sample;
}

// Pages touched for the first time: on this VM each costs microseconds of
// clear_page, which made up a third of the proxy phase's CPU.
struct MemorySample {
  long minor_faults = 0;
  long max_rss_kilobytes = 0;
};

MemorySample sample_memory() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return {usage.ru_minflt, usage.ru_maxrss};
}

// --- the data ---------------------------------------------------------------------

std::string create_topic(const Settings& settings) {
  whippet::AdminOptions options;
  options.cluster.brokers = settings.brokers;
  whippet::AdminClient admin(options);
  const auto name = fmt::format("bench-fanout-{}", Clock::now().time_since_epoch().count());
  admin.create_topic({name, settings.partitions, 1, {}});
  return name;
}

std::uint64_t produce(const Settings& settings, const std::string& topic) {
  whippet::ProducerOptions options;
  options.cluster.brokers = settings.brokers;
  whippet::Producer producer(options);
  const std::string value(static_cast<std::size_t>(settings.size), 'x');
  std::atomic<int> failed{0};
  std::uint64_t payload = 0;
  const auto start = Clock::now();
  for (int i = 0; i < settings.records; ++i) {
    whippet::ProducerRecord record;
    record.topic = topic;
    record.key = std::to_string(i);
    record.value = value;
    record.partition = i % settings.partitions;  // the same count in every partition
    payload += record.key->size() + value.size();
    producer.send(std::move(record), [&](const whippet::Result<whippet::RecordMetadata>& result) {
      if (!result) failed.fetch_add(1);
    });
  }
  producer.flush(std::chrono::seconds(settings.timeout));
  if (failed.load() != 0) abort_run(fmt::format("{} records failed to produce", failed.load()));
  std::printf("produced %d records (%.1f MB of keys and values) in %.2f s\n", settings.records,
              static_cast<double>(payload) / 1e6, seconds_between(start, Clock::now()));
  return payload;
}

// --- one side's results -------------------------------------------------------------

struct ReaderResult {
  std::uint64_t records = 0;      // first deliveries
  std::uint64_t redelivered = 0;  // proxy only
  Clock::time_point subscribed{};
  Clock::time_point first{};
  Clock::time_point last{};
  std::uint64_t rx_bytes = 0;  // direct only: this consumer's librdkafka rx_bytes
  std::uint64_t private_bytes = 0;  // proxy only: its session's private reader's rx_bytes

  double rate() const { return static_cast<double>(records) / seconds_between(first, last); }
};

struct SideResult {
  std::string name;
  std::vector<ReaderResult> readers;
  std::uint64_t broker_bytes = 0;  // librdkafka rx_bytes of every reader of the side
  std::string bytes_detail;
  double cpu_seconds = 0;  // this process, from the first subscription to the last record
  MemorySample memory_before;
  MemorySample memory_after;
  std::optional<BrokerSample> broker;  // deltas over the phase
  Clock::time_point start{};
  Clock::time_point end{};  // the last record of the last reader

  std::vector<double> sorted_rates() const {
    std::vector<double> rates;
    for (const auto& reader : readers) rates.push_back(reader.rate());
    std::sort(rates.begin(), rates.end());
    return rates;
  }
  double min_rate() const { return sorted_rates().front(); }
  double median_rate() const { return whippet::bench::median(sorted_rates()); }
  double max_rate() const { return sorted_rates().back(); }
};

std::optional<BrokerSample> delta(const std::optional<BrokerSample>& before,
                                  const std::optional<BrokerSample>& after) {
  if (!before || !after) return std::nullopt;
  return BrokerSample{after->written - before->written, after->cpu_seconds - before->cpu_seconds};
}

// --- direct consumers ------------------------------------------------------------------

struct Statistics {
  std::atomic<std::uint64_t> rx_bytes{0};
  std::atomic<std::uint64_t> emissions{0};

  static int on_statistics(rd_kafka_t* /*handle*/, char* json, size_t length, void* opaque) {
    auto* self = static_cast<Statistics*>(opaque);
    try {
      const auto parsed = nlohmann::json::parse(json, json + length);
      self->rx_bytes.store(parsed.value("rx_bytes", 0ULL));
    } catch (const std::exception& error) {
      spdlog::warn("librdkafka statistics not understood: {}", error.what());
    }
    self->emissions.fetch_add(1);
    return 0;  // librdkafka frees the json
  }
};

ReaderResult consume_directly(const Settings& settings, const std::string& topic,
                              const std::string& group, std::latch& ready,
                              Clock::time_point deadline, std::atomic<bool>& give_up) {
  whippet::ConsumerOptions options;
  options.cluster.brokers = settings.brokers;
  options.group_id = group;
  options.topics = {topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  const whippet::ResolvedCluster cluster{settings.brokers, nullptr};
  auto properties = whippet::consumer::consumer_properties(options, cluster);
  properties["enable.auto.commit"] = "true";  // positions are kept, as the proxy commits too
  properties["enable.auto.offset.store"] = "true";
  properties["auto.commit.interval.ms"] = "1000";
  properties["statistics.interval.ms"] = std::to_string(kStatisticsIntervalMs);
  auto conf = whippet::kafka::build_conf(properties, {});
  Statistics statistics;
  rd_kafka_conf_set_stats_cb(conf.get(), &Statistics::on_statistics);
  rd_kafka_conf_set_opaque(conf.get(), &statistics);
  auto handle = whippet::kafka::create_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle.get());
  auto subscription = whippet::kafka::make_partition_list(1);
  rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);

  ready.arrive_and_wait();  // every consumer subscribes at the same moment
  ReaderResult result;
  result.subscribed = Clock::now();
  if (const auto err = rd_kafka_subscribe(handle.get(), subscription.get())) {
    abort_run(fmt::format("{}: subscribe: {}", group, rd_kafka_err2str(err)));
  }
  const auto wanted = static_cast<std::uint64_t>(settings.records);
  while (result.records < wanted && !give_up.load(std::memory_order_relaxed)) {
    if (Clock::now() > deadline) {
      give_up = true;
      break;
    }
    whippet::kafka::MessageHandle message(rd_kafka_consumer_poll(handle.get(), 100));
    if (!message) continue;
    if (message->err) {
      spdlog::warn("{}: {}", group, rd_kafka_message_errstr(message.get()));
      continue;
    }
    if (result.records == 0) result.first = Clock::now();
    if (++result.records == wanted) result.last = Clock::now();
  }
  // The byte count is final once librdkafka emitted statistics after the last record.
  const auto seen = statistics.emissions.load();
  const auto stats_deadline = Clock::now() + std::chrono::milliseconds(4 * kStatisticsIntervalMs);
  while (statistics.emissions.load() == seen && Clock::now() < stats_deadline) {
    whippet::kafka::MessageHandle message(rd_kafka_consumer_poll(handle.get(), 50));
  }
  if (statistics.emissions.load() == seen) {
    spdlog::warn("{}: no statistics after the last record; its byte count may be short", group);
  }
  result.rx_bytes = statistics.rx_bytes.load();
  rd_kafka_consumer_close(handle.get());
  return result;
}

SideResult run_direct(const Settings& settings, const std::string& topic) {
  SideResult side;
  side.name = "direct";
  side.readers.resize(static_cast<std::size_t>(settings.subscribers));
  std::latch ready(settings.subscribers + 1);
  std::atomic<bool> give_up{false};
  const auto deadline = Clock::now() + std::chrono::seconds(settings.timeout);
  std::vector<std::thread> threads;
  for (int i = 0; i < settings.subscribers; ++i) {
    threads.emplace_back([&, i] {
      side.readers[static_cast<std::size_t>(i)] = consume_directly(
          settings, topic, fmt::format("{}-direct-{}", topic, i), ready, deadline, give_up);
    });
  }
  const auto broker_before = sample_broker(settings.broker_pid);
  side.memory_before = sample_memory();
  const double cpu_before = process_cpu_seconds();
  side.start = Clock::now();
  ready.arrive_and_wait();
  for (auto& thread : threads) thread.join();
  if (give_up) {
    std::string counts;
    for (const auto& reader : side.readers) counts += fmt::format(" {}", reader.records);
    abort_run(fmt::format("direct consumers did not read {} records each within {} s; read:{}",
                          settings.records, settings.timeout, counts));
  }
  // The CPU includes each consumer's wait for one more statistics emission
  // (at most kStatisticsIntervalMs of mostly idle polling).
  side.cpu_seconds = process_cpu_seconds() - cpu_before;
  side.memory_after = sample_memory();
  side.broker = delta(broker_before, sample_broker(settings.broker_pid));
  for (const auto& reader : side.readers) {
    side.broker_bytes += reader.rx_bytes;
    side.end = std::max(side.end, reader.last);
  }
  side.bytes_detail = fmt::format("{} consumers' rx_bytes", side.readers.size());
  return side;
}

// --- through the proxy --------------------------------------------------------------------

SideResult run_proxy(const Settings& settings, const std::string& topic) {
  SideResult side;
  side.name = "proxy";
  const auto broker_before = sample_broker(settings.broker_pid);
  side.memory_before = sample_memory();
  const double cpu_before = process_cpu_seconds();
  side.start = Clock::now();

  whippet::fanout::FanoutOptions options;
  options.listen_address = "127.0.0.1:0";
  options.cluster.brokers = settings.brokers;
  options.group_prefix = topic + "-proxy";
  options.proxy_id = "fanout-bench";
  options.buffer.max_records = static_cast<std::size_t>(settings.buffer_records);
  options.buffer.max_bytes = std::size_t{1} << 30;  // the record bound decides
  options.max_in_flight_limit =
      std::max(options.max_in_flight_limit, static_cast<std::size_t>(settings.max_in_flight));
  whippet::fanout::FanoutServer server(options);

  const auto count = static_cast<std::size_t>(settings.subscribers);
  const auto wanted = static_cast<std::uint64_t>(settings.records);
  side.readers.resize(count);
  std::mutex mutex;
  std::condition_variable finished_changed;
  std::size_t finished = 0;
  std::vector<std::unique_ptr<whippet::fanout::FanoutClient>> clients;
  for (std::size_t i = 0; i < count; ++i) {
    whippet::fanout::FanoutClientOptions client;
    client.address = fmt::format("127.0.0.1:{}", server.port());
    client.request.set_topic(topic);
    client.request.set_subscriber(fmt::format("bench-{}", i));
    client.request.set_start(whippet::v1::EARLIEST);
    client.request.mutable_flow()->set_max_in_flight(static_cast<std::uint32_t>(settings.max_in_flight));
    // As subscribers in separate processes, and as each direct consumer has
    // its own connections to the broker.
    client.own_connection = true;
    auto* reader = &side.readers[i];
    reader->subscribed = Clock::now();
    // Runs on the client's own thread; `*reader` is read by the main thread
    // only after `finished` counted it, under the mutex.
    clients.push_back(std::make_unique<whippet::fanout::FanoutClient>(
        client, [&, reader, wanted](const std::vector<whippet::fanout::DeliveredRecord>& batch) {
          if (reader->records >= wanted) return;
          for (const auto& delivered : batch) {
            if (delivered.attempt > 1) {
              ++reader->redelivered;
              continue;
            }
            if (reader->records == 0) reader->first = Clock::now();
            ++reader->records;
          }
          if (reader->records >= wanted) {
            std::lock_guard lock(mutex);
            reader->last = Clock::now();
            ++finished;
            finished_changed.notify_all();
          }
        }));
  }
  // WHIPPET_BENCH_TIMELINE=1: every 250 ms, how far the subscribers are and
  // how many of their partitions are read privately.
  const bool timeline = std::getenv("WHIPPET_BENCH_TIMELINE") != nullptr;
  const auto deadline = Clock::now() + std::chrono::seconds(settings.timeout);
  {
    std::unique_lock lock(mutex);
    while (timeline && finished < count && Clock::now() < deadline) {
      lock.unlock();
      const auto now = nlohmann::json::parse(server.snapshot_json());
      std::string line;
      for (const auto& item : now.at("subscribers")) {
        int privately = 0;
        for (const auto& cursor : item.at("partitions")) privately += cursor.at("source") == "private";
        line += fmt::format(" {}:{}p{}", item.at("subscriber").get<std::string>().substr(6),
                            item.at("acknowledged").get<std::uint64_t>(), privately);
      }
      std::uint64_t buffered = 0;
      for (const auto& item : now.at("topics")) {
        for (const auto& partition : item.at("partitions")) {
          buffered += partition.at("buffered_records").get<std::uint64_t>();
        }
      }
      std::printf("  t=%.2f s buffered %llu | subscriber:acknowledged p private partitions:%s\n",
                  seconds_between(side.start, Clock::now()),
                  static_cast<unsigned long long>(buffered), line.c_str());
      lock.lock();
      finished_changed.wait_for(lock, 250ms, [&] { return finished == count; });
    }
    if (!finished_changed.wait_until(lock, deadline, [&] { return finished == count; })) {
      std::string counts;
      for (const auto& client : clients) counts += fmt::format(" {}", client->received());
      abort_run(fmt::format(
          "proxy subscribers did not read {} records each within {} s; received:{}\nsnapshot: {}",
          settings.records, settings.timeout, counts, server.snapshot_json()));
    }
  }
  side.cpu_seconds = process_cpu_seconds() - cpu_before;
  side.memory_after = sample_memory();
  for (const auto& reader : side.readers) side.end = std::max(side.end, reader.last);

  // Sessions leave the snapshot when their streams end: read it first, once
  // the readers' statistics have been refreshed after the last record.
  std::this_thread::sleep_for(kProxyStatisticsSettle);
  const auto snapshot = nlohmann::json::parse(server.snapshot_json());
  side.broker = delta(broker_before, sample_broker(settings.broker_pid));
  std::uint64_t feed_bytes = 0, private_bytes = 0, feed_records = 0, evictions = 0, pushed = 0,
                redelivered = 0;
  for (const auto& item : snapshot.at("topics")) {
    feed_bytes += item.at("fetched_bytes").get<std::uint64_t>();
    feed_records += item.at("records_read").get<std::uint64_t>();
  }
  for (const auto& item : snapshot.at("subscribers")) {
    private_bytes += item.at("private_fetched_bytes").get<std::uint64_t>();
    const auto name = item.at("subscriber").get<std::string>();  // bench-<index>
    const auto index = static_cast<std::size_t>(std::stoul(name.substr(6)));
    if (index < count) {
      side.readers[index].private_bytes = item.at("private_fetched_bytes").get<std::uint64_t>();
    }
    evictions += item.at("evictions").get<std::uint64_t>();
    pushed += item.at("pushed").get<std::uint64_t>();
    redelivered += item.at("redelivered").get<std::uint64_t>();
  }
  if (snapshot.at("subscribers").size() != count) {
    spdlog::warn("the snapshot lists {} subscribers, not {}", snapshot.at("subscribers").size(),
                 count);
  }
  side.broker_bytes = feed_bytes + private_bytes;
  side.bytes_detail = fmt::format(
      "feed {} + private readers {}; feed read {} records; sessions pushed {}, redelivered {}, "
      "evictions {}",
      feed_bytes, private_bytes, feed_records, pushed, redelivered, evictions);
  for (auto& client : clients) client->stop();
  clients.clear();
  server.shutdown();
  return side;
}

// --- report ---------------------------------------------------------------------------------

void print_side(const SideResult& side) {
  for (std::size_t i = 0; i < side.readers.size(); ++i) {
    const auto& reader = side.readers[i];
    std::string extra;
    if (side.name == "direct") extra = fmt::format(", rx_bytes {}", reader.rx_bytes);
    if (side.name == "proxy") extra = fmt::format(", private reader {} bytes", reader.private_bytes);
    if (reader.redelivered > 0) extra += fmt::format(", {} redelivered", reader.redelivered);
    std::printf("  %s %zu: %llu records in %.2f s = %.0f records/s (first record %.2f s after "
                "subscribing)%s\n",
                side.name.c_str(), i, static_cast<unsigned long long>(reader.records),
                seconds_between(reader.first, reader.last), reader.rate(),
                seconds_between(reader.subscribed, reader.first), extra.c_str());
  }
  std::printf("  %s: %ld minor page faults; process peak RSS %ld MB before, %ld MB after\n",
              side.name.c_str(), side.memory_after.minor_faults - side.memory_before.minor_faults,
              side.memory_before.max_rss_kilobytes / 1024,
              side.memory_after.max_rss_kilobytes / 1024);
}

// All subscribers' records per second, from the first record any of them
// received to the last one.
double aggregate_rate(const SideResult& side, double total) {
  auto first = side.readers.front().first;
  for (const auto& reader : side.readers) first = std::min(first, reader.first);
  return total / seconds_between(first, side.end);
}

}  // namespace

int main(int argc, char** argv) {
  const auto settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::printf("fanout_throughput: %d records of %d bytes, %d partitions, %d subscribers, "
              "max in flight %d, shared buffer %d records per partition\n",
              settings.records, settings.size, settings.partitions, settings.subscribers,
              settings.max_in_flight, settings.buffer_records);
  const auto topic = create_topic(settings);
  const auto payload = produce(settings, topic);
  std::fflush(stdout);

  // WHIPPET_BENCH_SIDE=proxy|direct runs one side only, for a profiler
  // (perf stat, perf record) to see that side alone.
  const std::string only = std::getenv("WHIPPET_BENCH_SIDE") ? std::getenv("WHIPPET_BENCH_SIDE") : "";
  if (only == "proxy" || only == "direct") {
    const auto side = only == "proxy" ? run_proxy(settings, topic) : run_direct(settings, topic);
    print_side(side);
    const double delivered = static_cast<double>(settings.records) * settings.subscribers;
    std::printf("%s only: per-subscriber records/s min %.0f median %.0f max %.0f; process CPU "
                "%.2f s (%.2f us per record delivered)\n",
                only.c_str(), side.min_rate(), side.median_rate(), side.max_rate(),
                side.cpu_seconds, side.cpu_seconds * 1e6 / delivered);
    return 0;
  }
  SideResult direct, proxy;
  if (settings.proxy_first) {
    proxy = run_proxy(settings, topic);
    direct = run_direct(settings, topic);
  } else {
    direct = run_direct(settings, topic);
    proxy = run_proxy(settings, topic);
  }
  print_side(direct);
  print_side(proxy);

  const double total = static_cast<double>(settings.records) * settings.subscribers;
  const double egress_ratio =
      static_cast<double>(proxy.broker_bytes) / static_cast<double>(direct.broker_bytes);
  std::printf("broker egress (librdkafka rx_bytes): direct %.1f MB (%s), proxy %.1f MB (%s); "
              "ratio %.3f (1/%d = %.3f); keys and values of one copy %.1f MB\n",
              static_cast<double>(direct.broker_bytes) / 1e6, direct.bytes_detail.c_str(),
              static_cast<double>(proxy.broker_bytes) / 1e6, proxy.bytes_detail.c_str(),
              egress_ratio, settings.subscribers, 1.0 / settings.subscribers,
              static_cast<double>(payload) / 1e6);
  if (direct.broker && proxy.broker) {
    std::printf("broker process bytes written (/proc/%d/io wchar): direct %.1f MB, proxy %.1f MB, "
                "ratio %.3f; broker CPU direct %.2f s, proxy %.2f s\n",
                settings.broker_pid, static_cast<double>(direct.broker->written) / 1e6,
                static_cast<double>(proxy.broker->written) / 1e6,
                static_cast<double>(proxy.broker->written) /
                    static_cast<double>(direct.broker->written),
                direct.broker->cpu_seconds, proxy.broker->cpu_seconds);
  }
  std::printf("per-subscriber records/s: direct min %.0f median %.0f max %.0f | proxy min %.0f "
              "median %.0f max %.0f\n",
              direct.min_rate(), direct.median_rate(), direct.max_rate(), proxy.min_rate(),
              proxy.median_rate(), proxy.max_rate());
  const double rate_ratio = proxy.median_rate() / direct.median_rate();
  std::printf("per-subscriber ratio proxy/direct: median %.3f, min %.3f\n", rate_ratio,
              proxy.min_rate() / direct.min_rate());
  std::printf("all %d subscribers done after (from the first subscription): direct %.2f s, "
              "proxy %.2f s; records delivered per second in all: direct %.0f, proxy %.0f\n",
              settings.subscribers, seconds_between(direct.start, direct.end),
              seconds_between(proxy.start, proxy.end),
              aggregate_rate(direct, total), aggregate_rate(proxy, total));
  std::printf("process CPU: direct %.2f s (%.2f us per record delivered), proxy with its "
              "subscribers %.2f s (%.2f us per record delivered)\n",
              direct.cpu_seconds, direct.cpu_seconds * 1e6 / total, proxy.cpu_seconds,
              proxy.cpu_seconds * 1e6 / total);
  std::printf("goal: egress ratio about %.3f: %s (%.3f); per-subscriber ratio at least 0.8: %s "
              "(%.3f)\n",
              1.0 / settings.subscribers,
              egress_ratio <= 1.25 / settings.subscribers ? "met" : "NOT met", egress_ratio,
              rate_ratio >= 0.8 ? "met" : "NOT met", rate_ratio);
  return 0;
}
