#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/expected_errors.h"
#include "whippet/config.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::config_error;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnvironment {
 public:
  void set(const char* name, const char* value) {
    const char* previous = std::getenv(name);
    saved_.emplace_back(name, previous ? std::optional<std::string>(previous) : std::nullopt);
    setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ConfigLoaderTest, EmptyDocumentGivesDefaults) {
  const auto config = parse_config("");
  EXPECT_EQ(config.cluster.brokers, "");
  EXPECT_EQ(config.cluster.client_id, "whippet");
  EXPECT_EQ(config.producer.acks, Acks::kAll);
  EXPECT_TRUE(config.producer.idempotence);
  EXPECT_EQ(config.producer.delivery_timeout, 120000ms);
  EXPECT_EQ(config.consumer.initial_offset, InitialOffset::kLatest);
  EXPECT_EQ(config.consumer.worker_threads, 4u);
  EXPECT_EQ(config.admin.operation_timeout, 15000ms);
  EXPECT_NO_THROW(parse_config("# only a comment\n"));
}

TEST(ConfigLoaderTest, EveryDocumentedKeyOverridesItsDefault) {
  const auto config = parse_config(R"(
cluster:
  brokers: "k1:9092,k2:9092"
  client_id: orders-service
  request_timeout_ms: 2500
  librdkafka: { "socket.keepalive.enable": "true", "debug": broker }
producer:
  acks: leader
  idempotence: false
  delivery_timeout_ms: 30000
  linger_ms: 20
  max_record_bytes: 500000
  max_buffered_records: 1000
  max_buffered_kilobytes: 4096
  buffer_full_timeout_ms: 0
  compression: zstd
consumer:
  group_id: billing
  topics: [orders, payments]
  initial_offset: earliest
  worker_threads: 16
  max_queued_records_per_partition: 50
  max_queued_bytes_per_partition: 65536
  commit_interval_ms: 500
  drain_timeout_ms: 3000
  session_timeout_ms: 10000
  max_poll_interval_ms: 60000
  assignment_strategy: range
admin:
  operation_timeout_ms: 7000
)");
  EXPECT_EQ(config.cluster.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(config.cluster.client_id, "orders-service");
  EXPECT_EQ(config.cluster.request_timeout, 2500ms);
  EXPECT_EQ(config.cluster.librdkafka_properties.at("socket.keepalive.enable"), "true");
  EXPECT_EQ(config.cluster.librdkafka_properties.at("debug"), "broker");
  EXPECT_EQ(config.producer.acks, Acks::kLeader);
  EXPECT_FALSE(config.producer.idempotence);
  EXPECT_EQ(config.producer.delivery_timeout, 30000ms);
  EXPECT_EQ(config.producer.linger, 20ms);
  EXPECT_EQ(config.producer.max_record_bytes, 500000u);
  EXPECT_EQ(config.producer.max_buffered_records, 1000u);
  EXPECT_EQ(config.producer.max_buffered_kilobytes, 4096u);
  EXPECT_EQ(config.producer.buffer_full_timeout, 0ms);
  EXPECT_EQ(config.producer.compression, Compression::kZstd);
  EXPECT_EQ(config.consumer.group_id, "billing");
  EXPECT_EQ(config.consumer.topics, (std::vector<std::string>{"orders", "payments"}));
  EXPECT_EQ(config.consumer.initial_offset, InitialOffset::kEarliest);
  EXPECT_EQ(config.consumer.worker_threads, 16u);
  EXPECT_EQ(config.consumer.max_queued_records_per_partition, 50u);
  EXPECT_EQ(config.consumer.max_queued_bytes_per_partition, 65536u);
  EXPECT_EQ(config.consumer.commit_interval, 500ms);
  EXPECT_EQ(config.consumer.drain_timeout, 3000ms);
  EXPECT_EQ(config.consumer.session_timeout, 10000ms);
  EXPECT_EQ(config.consumer.max_poll_interval, 60000ms);
  EXPECT_EQ(config.consumer.assignment_strategy, AssignmentStrategy::kRange);
  EXPECT_EQ(config.admin.operation_timeout, 7000ms);
  // The one cluster section reaches every client.
  EXPECT_EQ(config.producer.cluster.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(config.consumer.cluster.client_id, "orders-service");
  EXPECT_EQ(config.admin.cluster.librdkafka_properties.size(), 2u);
}

TEST(ConfigLoaderTest, PartialSectionKeepsOtherDefaults) {
  const auto config = parse_config("producer:\n  linger_ms: 0\nconsumer:\n  topic_pattern: 'orders-.*'\n");
  EXPECT_EQ(config.producer.linger, 0ms);
  EXPECT_EQ(config.producer.acks, Acks::kAll);
  EXPECT_EQ(config.consumer.topic_pattern, "orders-.*");
  EXPECT_TRUE(config.consumer.topics.empty());
}

TEST(ConfigLoaderTest, UnknownKeysAreErrorsNamingTheKey) {
  const auto typo = config_error("producer:\n  linger_sm: 5\n");
  EXPECT_NE(typo.find("producer.linger_sm"), std::string::npos) << typo;
  EXPECT_NE(typo.find(":2:"), std::string::npos) << "names the line: " << typo;
  EXPECT_NE(typo.find("linger_ms"), std::string::npos) << "lists the known keys: " << typo;
  const auto section = config_error("producers:\n  acks: all\n");
  EXPECT_NE(section.find("producers"), std::string::npos) << section;
  const auto nested = config_error("cluster:\n  broker: x:1\n");
  EXPECT_NE(nested.find("cluster.broker"), std::string::npos) << nested;
}

TEST(ConfigLoaderTest, WrongTypesNameKeyAndExpectedType) {
  const auto number = config_error("producer:\n  linger_ms: soon\n");
  EXPECT_NE(number.find("producer.linger_ms"), std::string::npos) << number;
  EXPECT_NE(number.find("integer"), std::string::npos) << number;
  const auto negative = config_error("consumer:\n  worker_threads: -2\n");
  EXPECT_NE(negative.find("consumer.worker_threads"), std::string::npos) << negative;
  const auto boolean = config_error("producer:\n  idempotence: maybe\n");
  EXPECT_NE(boolean.find("true or false"), std::string::npos) << boolean;
  const auto list = config_error("consumer:\n  topics: orders\n");
  EXPECT_NE(list.find("a list of strings"), std::string::npos) << list;
  const auto scalar = config_error("cluster:\n  brokers: [a, b]\n");
  EXPECT_NE(scalar.find("cluster.brokers"), std::string::npos) << scalar;
  const auto choice = config_error("producer:\n  compression: brotli\n");
  EXPECT_NE(choice.find("zstd"), std::string::npos) << "lists the choices: " << choice;
  const auto mapping = config_error("producer: fast\n");
  EXPECT_NE(mapping.find("producer"), std::string::npos) << mapping;
  const auto fraction = config_error("producer:\n  max_record_bytes: 1.5\n");
  EXPECT_NE(fraction.find("producer.max_record_bytes"), std::string::npos) << fraction;
}

TEST(ConfigLoaderTest, MalformedYamlIsAnInvalidConfig) {
  const auto message = config_error("producer:\n  acks: [all\n");
  EXPECT_NE(message.find("YAML"), std::string::npos) << message;
}

TEST(ConfigLoaderTest, LoadsAFileAndNamesItInErrors) {
  const auto directory = std::filesystem::temp_directory_path();
  const auto good = directory / ("whippet-config-" + std::to_string(getpid()) + ".yaml");
  const auto bad = directory / ("whippet-config-bad-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(good) << "cluster:\n  brokers: file-broker:9092\n";
  std::ofstream(bad) << "cluster:\n  brokerz: x\n";
  EXPECT_EQ(load_config(good).consumer.cluster.brokers, "file-broker:9092");
  try {
    load_config(bad);
    ADD_FAILURE() << "expected kInvalidConfig";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(bad.string()), std::string::npos) << error.what();
  }
  EXPECT_THROW(load_config(directory / "whippet-no-such-file.yaml"), Error);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST(ConfigEnvironmentTest, VariablesOverrideTheFileAndReachEveryClient) {
  ScopedEnvironment environment;
  environment.set("WHIPPET_BROKERS", "env-broker:9092");
  environment.set("WHIPPET_CLIENT_ID", "env-client");
  environment.set("WHIPPET_GROUP_ID", "env-group");
  environment.set("WHIPPET_INITIAL_OFFSET", "earliest");
  environment.set("WHIPPET_WORKER_THREADS", "12");
  auto config = parse_config("cluster:\n  brokers: file:9092\nconsumer:\n  group_id: file-group\n");
  apply_environment(config);
  EXPECT_EQ(config.cluster.brokers, "env-broker:9092");
  EXPECT_EQ(config.producer.cluster.brokers, "env-broker:9092");
  EXPECT_EQ(config.consumer.cluster.brokers, "env-broker:9092");
  EXPECT_EQ(config.admin.cluster.client_id, "env-client");
  EXPECT_EQ(config.consumer.group_id, "env-group");
  EXPECT_EQ(config.consumer.initial_offset, InitialOffset::kEarliest);
  EXPECT_EQ(config.consumer.worker_threads, 12u);
}

TEST(ConfigEnvironmentTest, UnsetOrEmptyVariablesChangeNothing) {
  ScopedEnvironment environment;
  environment.set("WHIPPET_BROKERS", "");
  unsetenv("WHIPPET_GROUP_ID");
  auto config = parse_config("cluster:\n  brokers: file:9092\nconsumer:\n  group_id: g\n");
  apply_environment(config);
  EXPECT_EQ(config.cluster.brokers, "file:9092");
  EXPECT_EQ(config.consumer.group_id, "g");
}

TEST(ConfigEnvironmentTest, InvalidValuesNameTheVariable) {
  for (const auto& [name, value] : std::vector<std::pair<const char*, const char*>>{
           {"WHIPPET_INITIAL_OFFSET", "oldest"},
           {"WHIPPET_WORKER_THREADS", "many"},
           {"WHIPPET_WORKER_THREADS", "0"},
           {"WHIPPET_WORKER_THREADS", "4x"}}) {
    ScopedEnvironment environment;
    environment.set(name, value);
    WhippetConfig config;
    try {
      apply_environment(config);
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidConfig);
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace whippet
