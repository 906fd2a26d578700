// The producer's retry policy (ProducerOptions::retry): records whose
// delivery failed with a transient error are sent again after a back-off,
// against the embedded (mock) cluster with injected failures and against no
// cluster at all.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "cluster/embedded_registry.h"
#include "kafka_test_helpers.h"
#include "producer/resend_scheduler.h"
#include "support/delivery_outcomes.h"
#include "support/expected_errors.h"
#include "whippet/config.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::read_records;
using testing::config_error;
using testing::error_of;
using testing::unique_name;

// The Kafka protocol's ApiKey of ProduceRequest.
constexpr int16_t kProduceApiKey = 0;

ProducerRecord record_for(const std::string& topic, std::string value) {
  ProducerRecord record;
  record.topic = topic;
  record.value = std::move(value);
  return record;
}

bool mentions(const Error& error, const std::string& text) {
  return std::string(error.what()).find(text) != std::string::npos;
}

using Outcomes = testing::DeliveryOutcomes;

class DeliveryEvents : public metrics::MetricsSink {
 public:
  void on_event(const metrics::Event& event) noexcept override {
    if (const auto* delivery = std::get_if<metrics::DeliveryCompleted>(&event)) {
      std::lock_guard lock(mutex_);
      events_.push_back(*delivery);
    }
  }
  std::vector<metrics::DeliveryCompleted> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::vector<metrics::DeliveryCompleted> events_;
};

FixedBackOffs repeated(std::chrono::milliseconds delay, int times) {
  return FixedBackOffs{std::vector<std::chrono::milliseconds>(static_cast<std::size_t>(times), delay)};
}

class ProducerRetryTest : public ::testing::Test {
 protected:
  ProducerOptions options() const {
    ProducerOptions options;
    options.cluster.brokers = cluster_.bootstrap_servers();
    options.delivery_timeout = 1s;
    options.linger = 0ms;
    // Reconnect quickly once the broker is back, so that a re-send within
    // the back-off window finds it.
    options.cluster.librdkafka_properties["reconnect.backoff.ms"] = "50";
    options.cluster.librdkafka_properties["reconnect.backoff.max.ms"] = "200";
    return options;
  }

  void set_broker_down(bool down) {
    ASSERT_TRUE(cluster::with_mock_cluster(cluster_.bootstrap_servers(), [&](auto* mock) {
      const auto err = down ? rd_kafka_mock_broker_set_down(mock, -1)
                            : rd_kafka_mock_broker_set_up(mock, -1);
      ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);
    }));
  }

  void fail_next_produce_requests(const std::vector<rd_kafka_resp_err_t>& errors) {
    ASSERT_TRUE(cluster::with_mock_cluster(cluster_.bootstrap_servers(), [&](auto* mock) {
      rd_kafka_mock_push_request_errors_array(mock, kProduceApiKey, errors.size(), errors.data());
    }));
  }

  // A producer that has delivered one record, so that it knows the topic's
  // leader before the test breaks something. On a loaded machine the first
  // connection can take longer than the short delivery_timeout: tries again.
  void warm_up(Producer& producer) {
    for (int attempt = 1;; ++attempt) {
      try {
        ASSERT_GE(producer.send(record_for(topic_, "warm-up")).get().offset, 0);
        ++warm_ups_;
        return;
      } catch (const Error& error) {
        if (attempt == 10) FAIL() << "warm-up failed: " << error.what();
      }
    }
  }

  int warm_ups_ = 0;

  EmbeddedCluster cluster_{EmbeddedCluster::Options{}};
  std::string topic_ = unique_name("producer-retry");
};

TEST(ProducerRetryClassificationTest, OnlyTransientErrorsAreSentAgain) {
  for (const auto err :
       {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED}) {
    EXPECT_TRUE(producer::is_transient(err)) << rd_kafka_err2name(err);
  }
  for (const auto err :
       {RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__INVALID_ARG,
        RD_KAFKA_RESP_ERR_INVALID_CONFIG, RD_KAFKA_RESP_ERR__PURGE_QUEUE,
        RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, RD_KAFKA_RESP_ERR__DESTROY, RD_KAFKA_RESP_ERR__FATAL,
        RD_KAFKA_RESP_ERR_INVALID_MSG, RD_KAFKA_RESP_ERR_INVALID_RECORD}) {
    EXPECT_FALSE(producer::is_transient(err)) << rd_kafka_err2name(err);
  }
}

TEST(ProducerRetryPolicyTest, DefaultIsNoRetry) {
  const ProducerOptions options;
  EXPECT_EQ(options.retry, ProducerRetryPolicy{});
  EXPECT_EQ(options.retry.back_off, BackOff(FixedBackOffs{}));
  EXPECT_FALSE(delay_before_retry(options.retry.back_off, 1));
}

// The broker is down for longer than delivery_timeout: without a policy the
// record fails; with one it is sent again and arrives once the broker is back.
TEST_F(ProducerRetryTest, BrokerDownFailsWithoutPolicyButSucceedsWithOne) {
  cluster_.create_topic(topic_, 1);
  {
    Producer producer(options());
    warm_up(producer);
    set_broker_down(true);
    auto future = producer.send(record_for(topic_, "no policy"));
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    const auto error = error_of(future);
    EXPECT_TRUE(error.code() == ErrorCode::kTimeout || error.code() == ErrorCode::kBrokerUnreachable)
        << error.what();
    EXPECT_TRUE(error.retriable()) << error.what();
    EXPECT_FALSE(mentions(error, "attempts")) << error.what();
    set_broker_down(false);
  }

  auto with_policy = options();
  with_policy.retry.back_off = repeated(300ms, 20);
  auto sink = std::make_shared<DeliveryEvents>();
  with_policy.metrics = metrics::MetricsReporter({sink});
  Producer producer(with_policy);
  warm_up(producer);
  set_broker_down(true);
  Outcomes outcomes;
  producer.send(record_for(topic_, "retried"), outcomes.callback());
  // Down for more than one delivery_timeout, well within the back-off window.
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(producer.in_flight(), 1u);
  EXPECT_TRUE(outcomes.results().empty());
  set_broker_down(false);
  ASSERT_TRUE(outcomes.wait_for(1, 15s));
  producer.flush(5s);
  std::this_thread::sleep_for(200ms);
  const auto results = outcomes.results();
  ASSERT_EQ(results.size(), 1u) << "exactly one outcome per record";
  ASSERT_TRUE(results[0].ok()) << results[0].error().what();
  EXPECT_EQ(results[0].value().topic, topic_);
  EXPECT_EQ(producer.in_flight(), 0u);
  // One delivery metric per record: the retried one reports success once.
  const auto events = sink->events();
  ASSERT_FALSE(events.empty());
  EXPECT_FALSE(events.back().error.has_value());
  std::size_t failed = 0;
  for (const auto& event : events) failed += event.error.has_value() ? 1 : 0;
  EXPECT_EQ(events.size() - failed, 2u);  // this producer's warm-up and the retried record
  const auto expected = static_cast<std::size_t>(warm_ups_) + 1;  // the warm-ups, then this one
  const auto stored = read_records(cluster_.bootstrap_servers(), topic_, 1, expected, 10s);
  ASSERT_EQ(stored.size(), expected);
  EXPECT_EQ(stored.back().value, "retried");
}

// A record too large for the broker is not transient: one attempt, and the
// error at once, even though a second attempt would have succeeded.
TEST_F(ProducerRetryTest, RecordTooLargeIsNeverRetried) {
  cluster_.create_topic(topic_, 1);
  auto with_policy = options();
  with_policy.idempotence = false;
  with_policy.retry.back_off = repeated(100ms, 5);
  Producer producer(with_policy);
  warm_up(producer);
  fail_next_produce_requests({RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE});
  const auto started = Clock::now();
  auto future = producer.send(record_for(topic_, "too large, says the broker"));
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const auto error = error_of(future);
  EXPECT_EQ(error.code(), ErrorCode::kRecordTooLarge) << error.what();
  EXPECT_FALSE(mentions(error, "attempts")) << error.what();
  EXPECT_LT(Clock::now() - started, 5s);
  producer.flush(5s);
  EXPECT_EQ(producer.in_flight(), 0u);
}

// Produce requests failing with NOT_ENOUGH_REPLICAS (librdkafka's own
// retries off, so that each attempt fails at once): two re-sends get the
// record through, one is not enough and the last error names the attempts.
TEST_F(ProducerRetryTest, NotEnoughReplicasIsRetriedUntilTheScheduleRunsOut) {
  cluster_.create_topic(topic_, 1);
  auto with_policy = options();
  with_policy.idempotence = false;
  with_policy.cluster.librdkafka_properties["retries"] = "0";
  {
    with_policy.retry.back_off = repeated(50ms, 2);
    Producer producer(with_policy);
    warm_up(producer);
    fail_next_produce_requests(
        {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS});
    const auto metadata = producer.send(record_for(topic_, "third time lucky")).get();
    EXPECT_EQ(metadata.topic, topic_);
    EXPECT_GE(metadata.offset, 0);
  }
  with_policy.retry.back_off = repeated(50ms, 1);
  Producer producer(with_policy);
  warm_up(producer);
  fail_next_produce_requests(
      {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS});
  auto future = producer.send(record_for(topic_, "out of retries"));
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const auto error = error_of(future);
  EXPECT_EQ(error.code(), ErrorCode::kKafka) << error.what();
  EXPECT_TRUE(mentions(error, "gave up after 2 attempts")) << error.what();
  EXPECT_TRUE(mentions(error, rd_kafka_err2str(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)))
      << error.what();
}

// No cluster at all: every attempt times out; the record fails once, with
// the last error and how many attempts were made.
TEST(ProducerRetryWithoutClusterTest, ExhaustedScheduleReportsTheLastErrorAndAttemptCount) {
  ProducerOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.delivery_timeout = 500ms;
  options.linger = 0ms;
  options.retry.back_off = repeated(100ms, 2);
  auto sink = std::make_shared<DeliveryEvents>();
  options.metrics = metrics::MetricsReporter({sink});
  Producer producer(options);
  Outcomes outcomes;
  const auto started = Clock::now();
  producer.send(record_for("anywhere", "x"), outcomes.callback());
  ASSERT_TRUE(outcomes.wait_for(1, 15s));
  const auto elapsed = Clock::now() - started;
  // Three delivery timeouts and two back-offs.
  EXPECT_GE(elapsed, 1600ms);
  std::this_thread::sleep_for(300ms);
  const auto results = outcomes.results();
  ASSERT_EQ(results.size(), 1u);
  ASSERT_FALSE(results[0].ok());
  const auto& error = results[0].error();
  EXPECT_EQ(error.code(), ErrorCode::kBrokerUnreachable) << error.what();
  EXPECT_TRUE(error.retriable());
  EXPECT_TRUE(mentions(error, "gave up after 3 attempts")) << error.what();
  EXPECT_TRUE(mentions(error, "127.0.0.1:1")) << error.what();
  producer.flush(5s);
  EXPECT_EQ(producer.in_flight(), 0u);
  const auto events = sink->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ErrorCode::kBrokerUnreachable);
}

// close() does not wait out a long back-off: the waiting record fails with
// kShutdown at once, naming the attempts made and the last error.
TEST(ProducerRetryWithoutClusterTest, CloseFailsRecordsWaitingForAResendAtOnce) {
  ProducerOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.delivery_timeout = 300ms;
  options.linger = 0ms;
  options.retry.back_off = InfiniteBackOff{60s};
  Producer producer(options);
  auto future = producer.send(record_for("anywhere", "waiting"));
  // Past the first delivery timeout: the record now waits for its back-off.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(future.wait_for(0s), std::future_status::timeout);
  EXPECT_EQ(producer.in_flight(), 1u);
  const auto started = Clock::now();
  producer.close(30s);
  EXPECT_LT(Clock::now() - started, 2s);
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  const auto error = error_of(future);
  EXPECT_EQ(error.code(), ErrorCode::kShutdown) << error.what();
  EXPECT_TRUE(mentions(error, "1 attempt made")) << error.what();
  EXPECT_TRUE(mentions(error, "127.0.0.1:1")) << error.what();
  EXPECT_EQ(producer.in_flight(), 0u);
  // Further sends fail as usual.
  auto after = producer.send(record_for("anywhere", "late"));
  EXPECT_EQ(error_of(after).code(), ErrorCode::kShutdown);
}

// flush() counts a record waiting for its re-send as in flight: it times out
// while the record waits and returns once the re-send delivered it.
TEST_F(ProducerRetryTest, FlushWaitsForPendingResends) {
  cluster_.create_topic(topic_, 1);
  auto with_policy = options();
  with_policy.delivery_timeout = 500ms;
  with_policy.retry.back_off = InfiniteBackOff{1500ms};
  Producer producer(with_policy);
  warm_up(producer);
  set_broker_down(true);
  auto future = producer.send(record_for(topic_, "flushed"));
  // The first attempt has failed (500 ms) and the record waits (until ~2 s).
  std::this_thread::sleep_for(1000ms);
  EXPECT_EQ(producer.in_flight(), 1u);
  EXPECT_THROW(producer.flush(200ms), Error);
  set_broker_down(false);
  producer.flush(20s);
  EXPECT_EQ(producer.in_flight(), 0u);
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  const auto metadata = future.get();
  EXPECT_EQ(metadata.topic, topic_);
}

// --- configuration -----------------------------------------------------------

TEST(ProducerRetryConfigTest, ReadsEveryBackOffShape) {
  EXPECT_EQ(parse_config("").producer.retry.back_off, BackOff(FixedBackOffs{}));
  EXPECT_EQ(parse_config("producer:\n  retry: none\n").producer.retry.back_off,
            BackOff(FixedBackOffs{}));
  EXPECT_EQ(parse_config("producer:\n  retry: { backoffs_ms: [100, 500, 1000] }\n")
                .producer.retry.back_off,
            BackOff(FixedBackOffs{{100ms, 500ms, 1000ms}}));
  EXPECT_EQ(parse_config("producer:\n  retry: { infinite_ms: 250 }\n").producer.retry.back_off,
            BackOff(InfiniteBackOff{250ms}));
  const auto exponential = parse_config(R"(
producer:
  linger_ms: 1
  retry:
    exponential: { initial_ms: 50, multiplier: 3, max_ms: 5000, max_attempts: 7 }
)");
  EXPECT_EQ(exponential.producer.retry.back_off,
            BackOff(ExponentialBackOff{50ms, 3.0, 5000ms, 7}));
  EXPECT_EQ(exponential.producer.linger, 1ms);
  EXPECT_EQ(parse_config("producer:\n  retry: { exponential: {} }\n").producer.retry.back_off,
            BackOff(ExponentialBackOff{}));
}

TEST(ProducerRetryConfigTest, InvalidRetrySectionsNameTheKey) {
  EXPECT_NE(config_error("producer:\n  retry: always\n").find("producer"), std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: always\n").find("retry"), std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: [100]\n").find("retry"), std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: { backoffs_ms: [100], infinite_ms: 5 }\n")
                .find("infinite_ms"),
            std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: { backoff_ms: [100] }\n").find("backoff_ms"),
            std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: { backoffs_ms: [-5] }\n").find("backoffs_ms"),
            std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: { exponential: { multiplier: 0.5 } }\n")
                .find("multiplier"),
            std::string::npos);
  EXPECT_NE(config_error("producer:\n  retry: {}\n").find("expected one of"), std::string::npos);
}

}  // namespace
}  // namespace whippet
