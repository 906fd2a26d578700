// A consumer in a process of its own, for tests that kill it with SIGKILL.
// Every handled record is appended to the output file as "partition offset"
// with one write(2), so what was handled survives the kill.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "whippet/consumer.h"

namespace {

struct Arguments {
  std::string brokers;
  std::string topic;
  std::string group;
  std::string output;
  int handler_delay_us = 0;
  int commit_interval_ms = 1000;
  int workers = 4;
  int parallelism = 0;  // key-ordered parallel mode when above 0
};

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--brokers") arguments.brokers = value;
    else if (name == "--topic") arguments.topic = value;
    else if (name == "--group") arguments.group = value;
    else if (name == "--output") arguments.output = value;
    else if (name == "--handler-delay-us") arguments.handler_delay_us = std::stoi(value);
    else if (name == "--commit-interval-ms") arguments.commit_interval_ms = std::stoi(value);
    else if (name == "--workers") arguments.workers = std::stoi(value);
    else if (name == "--parallelism") arguments.parallelism = std::stoi(value);
    else {
      std::fprintf(stderr, "unknown argument %s\n", name.c_str());
      std::exit(2);
    }
  }
  if (arguments.brokers.empty() || arguments.topic.empty() || arguments.group.empty() ||
      arguments.output.empty()) {
    std::fprintf(stderr,
                 "usage: test_consumer --brokers B --topic T --group G --output FILE "
                 "[--handler-delay-us N] [--commit-interval-ms N] [--workers N] [--parallelism N]\n");
    std::exit(2);
  }
  return arguments;
}

}  // namespace

int main(int argc, char** argv) {
  const auto arguments = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);

  // SIGTERM asks for a graceful close; it is taken by sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const int output = ::open(arguments.output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (output < 0) {
    std::perror("open output");
    return 1;
  }

  whippet::ConsumerOptions options;
  options.cluster.brokers = arguments.brokers;
  options.group_id = arguments.group;
  options.topics = {arguments.topic};
  options.initial_offset = whippet::InitialOffset::kEarliest;
  options.commit_interval = std::chrono::milliseconds(arguments.commit_interval_ms);
  options.worker_threads = static_cast<std::size_t>(arguments.workers);
  options.session_timeout = std::chrono::milliseconds(10000);
  if (arguments.parallelism > 0) {
    options.dispatch = whippet::KeyOrdered{static_cast<std::size_t>(arguments.parallelism)};
  }

  whippet::Consumer consumer(options, [&](const whippet::Record& record) {
    if (arguments.handler_delay_us > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(arguments.handler_delay_us));
    }
    char line[64];
    const int length =
        std::snprintf(line, sizeof line, "%d %lld\n", record.partition,
                      static_cast<long long>(record.offset));
    if (::write(output, line, static_cast<std::size_t>(length)) != length) std::abort();
  });

  int received = 0;
  sigwait(&signals, &received);
  consumer.close(std::chrono::seconds(10));
  ::close(output);
  return 0;
}
