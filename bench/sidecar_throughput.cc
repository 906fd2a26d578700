// Throughput through the sidecar against the in-process SDK, same run, same
// broker:
//   produce: a C++ client's ProduceStream through the sidecar against
//            whippet::Producer in-process;
//   consume: a Python client (clients/python) through the sidecar, acking
//            every record, against a whippet::Consumer in-process. Both use
//            key-ordered dispatch with the same parallelism and are timed
//            from their first record to their last.
//
//   bench/sidecar_throughput --brokers 127.0.0.1:9092 [--records 200000] [--size 100]
//       [--partitions 8] [--parallelism 64] [--max-in-flight 2048]
//       [--python build/python/bin/python] [--script bench/sidecar_consume.py]

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bench_options.h"
#include "sidecar_server.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"
#include "whippet/v1/sidecar.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
// What a client would batch: small records, a few hundred per message.
constexpr int kRecordsPerBatch = 500;

struct Settings {
  std::string brokers;
  int records = 200000;
  int size = 100;
  int partitions = 8;
  int parallelism = 64;
  int max_in_flight = 2048;
  std::string python = "build/python/bin/python";
  std::string script = "bench/sidecar_consume.py";
};

const char* const kUsage =
    "usage: sidecar_throughput --brokers HOST:PORT [--records N] [--size BYTES] [--partitions N] "
    "[--parallelism N] [--max-in-flight N] [--python PATH] [--script PATH]";

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr, "%s\n%s\n", problem.c_str(), kUsage);
  std::exit(2);
}

Settings parse(int argc, char** argv) {
  Settings settings;
  whippet::bench::BenchOptions options(kUsage, settings.brokers);
  options.add("--records", settings.records)
      .add("--size", settings.size)
      .add("--partitions", settings.partitions)
      .add("--parallelism", settings.parallelism)
      .add("--max-in-flight", settings.max_in_flight)
      .add("--python", settings.python)
      .add("--script", settings.script)
      .parse(argc, argv);
  if (settings.brokers.empty()) options.fail("no brokers: pass --brokers or set WHIPPET_BROKERS");
  return settings;
}

std::string create_topic(const Settings& settings, const std::string& prefix) {
  whippet::AdminOptions options;
  options.cluster.brokers = settings.brokers;
  whippet::AdminClient admin(options);
  const auto name = fmt::format("{}-{}", prefix, Clock::now().time_since_epoch().count());
  admin.create_topic({name, settings.partitions, 1, {}});
  return name;
}

std::string key_of(int i) { return "key-" + std::to_string(i % 1000); }

double produce_in_process(const Settings& settings, const std::string& topic) {
  whippet::ProducerOptions options;
  options.cluster.brokers = settings.brokers;
  whippet::Producer producer(options);
  const std::string value(static_cast<std::size_t>(settings.size), 'x');
  std::atomic<int> failed{0};
  const auto start = Clock::now();
  for (int i = 0; i < settings.records; ++i) {
    producer.send({topic, key_of(i), value, {}, {}, {}},
                  [&](const whippet::Result<whippet::RecordMetadata>& result) {
                    if (!result) failed.fetch_add(1);
                  });
  }
  producer.flush(std::chrono::minutes(5));
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  if (failed.load() != 0) usage(fmt::format("{} in-process sends failed", failed.load()));
  return settings.records / elapsed.count();
}

double produce_through_sidecar(const Settings& settings, const std::string& topic, int port) {
  auto channel = grpc::CreateChannel(fmt::format("127.0.0.1:{}", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = whippet::v1::ProducerService::NewStub(channel);
  const std::string value(static_cast<std::size_t>(settings.size), 'x');
  grpc::ClientContext context;
  const auto start = Clock::now();
  auto stream = stub->ProduceStream(&context);
  std::thread writer([&] {
    for (int i = 0; i < settings.records;) {
      whippet::v1::ProduceBatch batch;
      for (const int end = std::min(settings.records, i + kRecordsPerBatch); i < end; ++i) {
        auto* request = batch.add_records();
        request->set_topic(topic);
        request->set_value(value);
        request->set_key(key_of(i));
      }
      if (!stream->Write(batch)) return;
    }
    stream->WritesDone();
  });
  int delivered = 0, failed = 0;
  whippet::v1::ProduceStreamResponse response;
  while (stream->Read(&response)) {
    for (const auto& result : response.results()) ++(result.has_position() ? delivered : failed);
  }
  writer.join();
  const auto status = stream->Finish();
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  if (!status.ok() || delivered != settings.records) {
    usage(fmt::format("produce stream: {} delivered, {} failed, status {}", delivered, failed,
                      status.error_message()));
  }
  return settings.records / elapsed.count();
}

double consume_in_process(const Settings& settings, const std::string& topic) {
  whippet::ConsumerOptions options;
  options.cluster.brokers = settings.brokers;
  options.group_id = topic + "-in-process";
  options.topics = {topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  options.dispatch = whippet::KeyOrdered{static_cast<std::size_t>(settings.parallelism)};
  std::mutex mutex;
  std::condition_variable done;
  int handled = 0;
  Clock::time_point first{}, last{};
  whippet::Consumer consumer(options, [&](const whippet::Record&) {
    std::lock_guard lock(mutex);
    if (handled == 0) first = Clock::now();
    if (++handled == settings.records) {
      last = Clock::now();
      done.notify_all();
    }
  });
  std::unique_lock lock(mutex);
  if (!done.wait_for(lock, std::chrono::minutes(5), [&] { return handled >= settings.records; })) {
    usage("the in-process consumer did not finish within 5 minutes");
  }
  const std::chrono::duration<double> elapsed = last - first;
  return settings.records / elapsed.count();
}

double consume_through_sidecar(const Settings& settings, const std::string& topic, int port) {
  const auto command = fmt::format(
      "{} {} --target 127.0.0.1:{} --topic {} --group {}-python --count {} --parallelism {} "
      "--max-in-flight {}",
      settings.python, settings.script, port, topic, topic, settings.records,
      settings.parallelism, settings.max_in_flight);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) usage("cannot run " + command);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe.get())) output += buffer;
  const auto result = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (result.is_discarded() || !result.contains("records_per_second")) {
    usage("the Python consumer printed no result; run it by hand: " + command + "\n" + output);
  }
  return result["records_per_second"].get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  const auto settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  whippet::sidecar::SidecarOptions options;
  options.listen_address = "127.0.0.1:0";
  options.config.cluster.brokers = settings.brokers;
  whippet::sidecar::SidecarServer sidecar(options);

  const auto in_process_topic = create_topic(settings, "bench-sidecar-sdk");
  const auto sidecar_topic = create_topic(settings, "bench-sidecar-grpc");
  fmt::print("{} records of {} bytes, {} partitions, key-ordered parallelism {}\n",
             settings.records, settings.size, settings.partitions, settings.parallelism);
  const auto sdk_produce = produce_in_process(settings, in_process_topic);
  const auto sidecar_produce = produce_through_sidecar(settings, sidecar_topic, sidecar.port());
  fmt::print("produce  in-process {:>10.0f} rec/s  sidecar stream {:>10.0f} rec/s  ratio {:.2f}\n",
             sdk_produce, sidecar_produce, sidecar_produce / sdk_produce);
  const auto sdk_consume = consume_in_process(settings, in_process_topic);
  const auto python_consume = consume_through_sidecar(settings, in_process_topic, sidecar.port());
  fmt::print("consume  in-process {:>10.0f} rec/s  Python+sidecar {:>10.0f} rec/s  ratio {:.2f}\n",
             sdk_consume, python_consume, python_consume / sdk_consume);
  return 0;
}
