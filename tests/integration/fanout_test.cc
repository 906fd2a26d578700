// The fan-out proxy on the real broker: a paused and a restarted subscriber
// among eight, a proxy killed with SIGKILL, two instances sharing a topic.

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fanout_client.h"
#include "fanout_server.h"
#include "support/child_process.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

// A loopback port free right now, for a proxy that must come back on the
// same address after a restart.
int free_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(socket_fd);
  return ntohs(address.sin_port);
}

bool wait_until_serving(const std::string& address, std::chrono::seconds timeout) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return channel->WaitForConnected(std::chrono::system_clock::now() + timeout);
}

struct Subscriber {
  testing::HandledRecords records;
  std::unique_ptr<fanout::FanoutClient> client;
};

std::unique_ptr<fanout::FanoutClient> connect(const std::string& address, const std::string& topic,
                                              const std::string& name, Subscriber& subscriber,
                                              std::uint32_t max_in_flight,
                                              std::chrono::milliseconds per_batch = 0ms) {
  fanout::FanoutClientOptions options;
  options.address = address;
  options.request.set_topic(topic);
  options.request.set_subscriber(name);
  options.request.set_start(v1::EARLIEST);
  options.request.mutable_flow()->set_max_in_flight(max_in_flight);
  return std::make_unique<fanout::FanoutClient>(
      options, [&subscriber, per_batch](const std::vector<fanout::DeliveredRecord>& batch) {
        for (const auto& delivered : batch) subscriber.records.add(delivered.record);
        if (per_batch > 0ms) std::this_thread::sleep_for(per_batch);
      });
}

std::size_t distinct(const testing::HandledRecords& records) {
  std::size_t count = 0;
  for (const auto& [partition, offsets] : records.by_partition()) {
    count += std::set<int64_t>(offsets.begin(), offsets.end()).size();
  }
  return count;
}

// Produces `per_second` records a second on a thread of its own, for `duration`.
class SteadyProducer {
 public:
  SteadyProducer(const ClusterOptions& cluster, std::string topic, int per_second,
                 std::chrono::seconds duration)
      : thread_([=, this] { run(cluster, topic, per_second, duration); }) {}
  ~SteadyProducer() {
    if (thread_.joinable()) thread_.join();
  }
  std::size_t sent() const { return sent_.load(); }
  void join() { thread_.join(); }

 private:
  void run(const ClusterOptions& cluster, const std::string& topic, int per_second,
           std::chrono::seconds duration) {
    ProducerOptions options;
    options.cluster = cluster;
    Producer producer(options);
    const auto start = std::chrono::steady_clock::now();
    const auto ticks = duration.count() * 10;
    for (int tick = 0; tick < ticks; ++tick) {
      for (int i = 0; i < per_second / 10; ++i) {
        ProducerRecord record;
        record.topic = topic;
        record.value = std::to_string(sent_.load());
        producer.send(std::move(record));
        sent_.fetch_add(1);
      }
      std::this_thread::sleep_until(start + (tick + 1) * 100ms);
    }
    producer.flush(60s);
  }

  std::atomic<std::size_t> sent_{0};
  std::thread thread_;
};

TEST(FanoutTest, EightSubscribersOnePausedThirtySecondsOneRestartedAllReceiveEverything) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 8;
  constexpr int kPerSecond = 2000;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("fanout-eight");
  testing::create_topic(cluster, topic, kPartitions);

  fanout::FanoutOptions options;
  options.listen_address = "127.0.0.1:0";
  options.cluster = cluster;
  options.group_prefix = testing::unique_name("fanout");
  options.buffer.max_records = 1000;  // 8,000 records: a 30 s pause falls out of it
  options.commit_interval = 200ms;
  options.session_timeout = 6000ms;
  fanout::FanoutServer proxy(options);
  const auto address = "127.0.0.1:" + std::to_string(proxy.port());

  std::vector<Subscriber> subscribers(8);
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    subscribers[i].client =
        connect(address, topic, "service-" + std::to_string(i), subscribers[i], 2000);
  }
  SteadyProducer producer(cluster, topic, kPerSecond, 45s);
  // Everybody streaming before the pause.
  for (auto& subscriber : subscribers) {
    ASSERT_TRUE(subscriber.records.wait_for_count(4000, 60s)) << subscriber.records.count();
  }
  auto& paused = subscribers[0];
  auto& restarted = subscribers[1];
  paused.client->pause();
  const auto paused_at = std::chrono::steady_clock::now();
  const auto sent_at_pause = producer.sent();
  std::size_t worst_healthy_lag = 0;
  bool paused_read_privately = false;
  for (int second = 1; second <= 30; ++second) {
    std::this_thread::sleep_until(paused_at + second * 1s);
    if (second == 5) restarted.client->restart();
    const auto sent = producer.sent();
    for (std::size_t i = 2; i < subscribers.size(); ++i) {
      const auto received = distinct(subscribers[i].records);
      worst_healthy_lag = std::max(worst_healthy_lag, sent > received ? sent - received : 0);
    }
    const auto snapshot = nlohmann::json::parse(proxy.snapshot_json());
    for (const auto& session : snapshot["subscribers"]) {
      if (session["subscriber"] == "service-0" && session["evictions"].get<int>() > 0) {
        paused_read_privately = true;
      }
    }
  }
  const auto paused_lag = producer.sent() - distinct(paused.records);
  const auto produced_while_paused = producer.sent() - sent_at_pause;
  paused.client->resume();
  producer.join();

  const auto ends = testing::end_offsets(cluster, topic);
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    EXPECT_TRUE(subscribers[i].records.wait_for_all(ends, 120s))
        << "subscriber " << i << " has " << distinct(subscribers[i].records) << " records";
  }
  RecordProperty("produced_while_paused", static_cast<int>(produced_while_paused));
  RecordProperty("worst_healthy_lag", static_cast<int>(worst_healthy_lag));
  RecordProperty("paused_lag", static_cast<int>(paused_lag));
  std::printf("while one subscriber was paused: %zu records produced, the healthy six at most "
              "%zu behind, the paused one %zu behind\n",
              produced_while_paused, worst_healthy_lag, paused_lag);
  // The healthy ones kept pace with the producer (under two seconds behind),
  // while the paused one fell far behind and out of the shared buffer.
  EXPECT_LT(worst_healthy_lag, static_cast<std::size_t>(2 * kPerSecond));
  EXPECT_GT(paused_lag, produced_while_paused * 8 / 10);
  EXPECT_TRUE(paused_read_privately) << "the paused subscriber never left the shared buffer";
  EXPECT_GE(restarted.client->streams_opened(), 2u);
}

TEST(FanoutTest, ProxyKilledWithSigkillSubscribersResumeFromAcknowledgedPositions) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 4;
  constexpr int kRecords = 20000;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("fanout-kill");
  const auto prefix = testing::unique_name("fanout");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  const auto address = "127.0.0.1:" + std::to_string(free_port());
  const std::vector<std::string> arguments = {
      "--brokers", cluster.brokers, "fanout", "--listen", address, "--group-prefix", prefix,
      "--commit-interval-ms", "200", "--session-timeout-ms", "6000"};
  auto proxy = std::make_unique<testing::ChildProcess>(WHIPPET_CLI_PATH, arguments);
  ASSERT_TRUE(wait_until_serving(address, 60s));

  std::vector<Subscriber> subscribers(2);
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    // Slow enough to be killed mid-stream: 200 records in flight, 20 ms a batch.
    subscribers[i].client =
        connect(address, topic, "slow-" + std::to_string(i), subscribers[i], 200, 20ms);
  }
  for (auto& subscriber : subscribers) {
    ASSERT_TRUE(subscriber.records.wait_for_count(3000, 60s)) << subscriber.records.count();
  }
  proxy->kill_now();
  std::vector<std::size_t> received_before_kill;
  for (auto& subscriber : subscribers) received_before_kill.push_back(distinct(subscriber.records));
  // What Kafka holds for each subscriber now is where the restarted proxy resumes.
  AdminOptions admin_options;
  admin_options.cluster = cluster;
  AdminClient admin(admin_options);
  std::vector<std::map<int32_t, int64_t>> committed(subscribers.size());
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    for (const auto& lag : admin.group_lag(prefix + ":" + topic + ":slow-" + std::to_string(i),
                                           {topic})) {
      committed[i][lag.topic_partition.partition] = lag.committed_offset.value_or(0);
    }
  }
  proxy = std::make_unique<testing::ChildProcess>(WHIPPET_CLI_PATH, arguments);

  const auto ends = testing::end_offsets(cluster, topic);
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    ASSERT_TRUE(subscribers[i].records.wait_for_all(ends, 120s))
        << "subscriber " << i << " has " << distinct(subscribers[i].records);
    ASSERT_LT(received_before_kill[i], static_cast<std::size_t>(kRecords)) << "killed too late";
    int64_t committed_total = 0;
    for (const auto& [partition, offset] : committed[i]) committed_total += offset;
    EXPECT_GT(committed_total, 0) << "nothing was committed before the kill";
    // Only records at or after the committed positions came again.
    std::size_t duplicates = 0;
    for (const auto& [partition, offsets] : subscribers[i].records.by_partition()) {
      std::map<int64_t, int> seen;
      for (const auto offset : offsets) {
        if (++seen[offset] == 2) {
          ++duplicates;
          EXPECT_GE(offset, committed[i][partition])
              << "partition " << partition << " offset " << offset
              << " was acknowledged and committed, yet pushed again";
        }
      }
    }
    std::printf("subscriber %zu: %zu received before the kill, %lld committed, %zu duplicates\n",
                i, received_before_kill[i], static_cast<long long>(committed_total), duplicates);
  }
  subscribers.clear();
  EXPECT_EQ(proxy->terminate(30), 0);
}

bool wait_for_assignments(const std::vector<fanout::FanoutClient*>& clients,
                          const std::set<int32_t>& all, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::set<int32_t> covered;
    bool split = true;
    for (const auto* client : clients) {
      const auto partitions = client->assignment();
      split = split && !partitions.empty();
      for (const auto partition : partitions) split = covered.insert(partition).second && split;
    }
    if (split && covered == all) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST(FanoutTest, TwoInstancesSplitTheTopicAndTheSurvivorTakesOverFromAKilledOne) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 4;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("fanout-two");
  const auto prefix = testing::unique_name("fanout");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, 8000, kPartitions);

  std::vector<std::string> addresses;
  std::vector<std::unique_ptr<testing::ChildProcess>> proxies;
  for (int i = 0; i < 2; ++i) {
    addresses.push_back("127.0.0.1:" + std::to_string(free_port()));
    proxies.push_back(std::make_unique<testing::ChildProcess>(
        WHIPPET_CLI_PATH,
        std::vector<std::string>{"--brokers", cluster.brokers, "fanout", "--listen",
                                 addresses.back(), "--group-prefix", prefix, "--proxy-id",
                                 "proxy-" + std::to_string(i), "--commit-interval-ms", "200",
                                 "--session-timeout-ms", "6000"}));
    ASSERT_TRUE(wait_until_serving(addresses.back(), 60s));
  }
  // One subscribing service holding a stream to each instance.
  Subscriber service;
  auto first = connect(addresses[0], topic, "svc", service, 1000);
  auto second = connect(addresses[1], topic, "svc", service, 1000);
  ASSERT_TRUE(wait_for_assignments({first.get(), second.get()}, {0, 1, 2, 3}, 60s))
      << "the instances did not split the partitions between them";
  auto ends = testing::end_offsets(cluster, topic);
  ASSERT_TRUE(service.records.wait_for_all(ends, 60s)) << distinct(service.records);

  proxies[0]->kill_now();
  testing::produce_numbered(cluster, topic, 4000, kPartitions);
  ends = testing::end_offsets(cluster, topic);
  // After the session timeout the survivor serves the killed one's partitions.
  EXPECT_TRUE(service.records.wait_for_all(ends, 90s)) << distinct(service.records);
  EXPECT_TRUE(wait_for_assignments({second.get()}, {0, 1, 2, 3}, 30s));
  first.reset();
  second.reset();
  EXPECT_EQ(proxies[1]->terminate(30), 0);
}

}  // namespace
}  // namespace whippet
