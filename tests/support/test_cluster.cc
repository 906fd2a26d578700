#include "support/test_cluster.h"

#include <atomic>
#include <cstdlib>
#include <future>
#include <random>

#include "whippet/admin.h"
#include "whippet/producer.h"

namespace whippet::testing {

std::string test_brokers() {
  const char* brokers = std::getenv("WHIPPET_TEST_BROKERS");
  return brokers ? brokers : "";
}

bool broker_required() {
  const char* required = std::getenv("WHIPPET_REQUIRE_BROKER");
  return required && std::string(required) == "1";
}

ConsumerOptions test_consumer_options(const std::string& topic, const std::string& group) {
  ConsumerOptions options;
  options.cluster = test_cluster_options();
  options.group_id = group;
  options.topics = {topic};
  options.initial_offset = InitialOffset::kEarliest;
  options.commit_interval = std::chrono::milliseconds(200);
  options.session_timeout = std::chrono::milliseconds(6000);
  return options;
}

ClusterOptions test_cluster_options() {
  ClusterOptions options;
  options.brokers = test_brokers();
  options.client_id = "whippet-tests";
  return options;
}

std::string unique_name(std::string_view prefix) {
  static std::atomic<int> sequence{0};
  static const auto run_id = std::random_device{}() % 1000000;
  return std::string(prefix) + "-" + std::to_string(run_id) + "-" + std::to_string(++sequence);
}

void create_topic(const ClusterOptions& cluster, const std::string& topic, int partitions) {
  AdminOptions options;
  options.cluster = cluster;
  AdminClient admin(options);
  NewTopic request;
  request.name = topic;
  request.partitions = partitions;
  admin.create_topic(request);
}

void produce_numbered(const ClusterOptions& cluster, const std::string& topic, int count,
                      int partitions, int keys) {
  ProducerOptions options;
  options.cluster = cluster;
  Producer producer(options);
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex failure_mutex;
  for (int i = 0; i < count; ++i) {
    ProducerRecord record;
    record.topic = topic;
    record.partition = i % partitions;
    record.key = "key-" + std::to_string(i % keys);
    record.value = std::to_string(i);
    producer.send(std::move(record), [&](const Result<RecordMetadata>& result) {
      if (result.ok()) return;
      if (failures.fetch_add(1) == 0) {
        std::lock_guard lock(failure_mutex);
        first_failure = result.error().what();
      }
    });
  }
  producer.flush(std::chrono::seconds(60));
  if (failures.load() > 0) {
    throw std::runtime_error(std::to_string(failures.load()) + " records failed: " + first_failure);
  }
}

void HandledRecords::add(const Record& record) {
  {
    std::lock_guard lock(mutex_);
    offsets_[record.partition].push_back(record.offset);
    distinct_[record.partition].insert(record.offset);
    ++count_;
  }
  added_.notify_all();
}

std::size_t HandledRecords::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

bool HandledRecords::wait_for_count(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return added_.wait_for(lock, timeout, [&] { return count_ >= count; });
}

bool HandledRecords::has_all(const std::map<int32_t, int64_t>& end_offsets) const {
  for (const auto& [partition, end] : end_offsets) {
    auto found = distinct_.find(partition);
    const auto seen = found == distinct_.end() ? 0 : found->second.size();
    if (end > 0 && seen < static_cast<std::size_t>(end)) return false;
  }
  return true;
}

bool HandledRecords::wait_for_all(const std::map<int32_t, int64_t>& end_offsets,
                                  std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return added_.wait_for(lock, timeout, [&] { return has_all(end_offsets); });
}

std::map<int32_t, std::vector<int64_t>> HandledRecords::by_partition() const {
  std::lock_guard lock(mutex_);
  return offsets_;
}

std::map<int32_t, int64_t> end_offsets(const ClusterOptions& cluster, const std::string& topic) {
  AdminOptions options;
  options.cluster = cluster;
  AdminClient admin(options);
  std::map<int32_t, int64_t> ends;
  for (const auto& partition : admin.describe_topic(topic).partitions) {
    ends[partition.partition] = partition.high_watermark;
  }
  return ends;
}

void run_broker_command(const std::string& verb) {
  const char* script = std::getenv("WHIPPET_KAFKA_SCRIPT");
  const char* cluster = std::getenv("WHIPPET_TEST_CLUSTER");
  if (!script || !cluster) {
    throw std::runtime_error("WHIPPET_KAFKA_SCRIPT and WHIPPET_TEST_CLUSTER must be set");
  }
  const auto command = std::string(script) + " " + verb + " " + cluster + " >/dev/null";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("broker command failed: " + command);
  }
}

}  // namespace whippet::testing
