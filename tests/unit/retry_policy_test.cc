#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "support/expected_errors.h"
#include "whippet/config.h"
#include "whippet/error.h"
#include "whippet/retry.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::config_error;
using testing::invalid_config;

std::string retry_error(const std::string& text) {
  return invalid_config([](const std::string& t) { return parse_retry_policies(t); }, text);
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

// ---------------------------------------------------------------- back-offs

TEST(RetryBackOffTest, FixedUsesOneDelayPerRetryThenStops) {
  const BackOff back_off = FixedBackOffs{{100ms, 250ms, 1000ms}};
  EXPECT_EQ(delay_before_retry(back_off, 1), 100ms);
  EXPECT_EQ(delay_before_retry(back_off, 2), 250ms);
  EXPECT_EQ(delay_before_retry(back_off, 3), 1000ms);
  EXPECT_EQ(delay_before_retry(back_off, 4), std::nullopt);
  EXPECT_EQ(delay_before_retry(back_off, 1000), std::nullopt);
}

TEST(RetryBackOffTest, EmptyFixedScheduleNeverRetries) {
  EXPECT_EQ(delay_before_retry(FixedBackOffs{}, 1), std::nullopt);
}

TEST(RetryBackOffTest, RetryNumbersBelowOneHaveNoDelay) {
  EXPECT_EQ(delay_before_retry(FixedBackOffs{{5ms}}, 0), std::nullopt);
  EXPECT_EQ(delay_before_retry(InfiniteBackOff{}, 0), std::nullopt);
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{}, -3), std::nullopt);
}

TEST(RetryBackOffTest, InfiniteAlwaysWaitsTheSameDelay) {
  const BackOff back_off = InfiniteBackOff{750ms};
  EXPECT_EQ(delay_before_retry(back_off, 1), 750ms);
  EXPECT_EQ(delay_before_retry(back_off, 2), 750ms);
  EXPECT_EQ(delay_before_retry(back_off, std::numeric_limits<int>::max()), 750ms);
}

TEST(RetryBackOffTest, ExponentialGrowsByTheMultiplierUpToTheCap) {
  const BackOff back_off = ExponentialBackOff{100ms, 2.0, 1000ms, 0};
  EXPECT_EQ(delay_before_retry(back_off, 1), 100ms);
  EXPECT_EQ(delay_before_retry(back_off, 2), 200ms);
  EXPECT_EQ(delay_before_retry(back_off, 3), 400ms);
  EXPECT_EQ(delay_before_retry(back_off, 4), 800ms);
  EXPECT_EQ(delay_before_retry(back_off, 5), 1000ms);
  EXPECT_EQ(delay_before_retry(back_off, 6), 1000ms);
  // max_attempts 0: forever, and huge exponents saturate at the cap.
  EXPECT_EQ(delay_before_retry(back_off, 5000), 1000ms);
  EXPECT_EQ(delay_before_retry(back_off, std::numeric_limits<int>::max()), 1000ms);
}

TEST(RetryBackOffTest, ExponentialWithFractionalMultiplier) {
  const BackOff back_off = ExponentialBackOff{1000ms, 1.5, 60000ms, 0};
  EXPECT_EQ(delay_before_retry(back_off, 2), 1500ms);
  EXPECT_EQ(delay_before_retry(back_off, 3), 2250ms);
}

TEST(RetryBackOffTest, ExponentialStopsAfterMaxAttempts) {
  const BackOff back_off = ExponentialBackOff{10ms, 3.0, 1000ms, 3};
  EXPECT_EQ(delay_before_retry(back_off, 1), 10ms);
  EXPECT_EQ(delay_before_retry(back_off, 2), 30ms);
  EXPECT_EQ(delay_before_retry(back_off, 3), 90ms);
  EXPECT_EQ(delay_before_retry(back_off, 4), std::nullopt);
}

TEST(RetryBackOffTest, ExponentialGuardsAgainstBadHandBuiltValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double infinity = std::numeric_limits<double>::infinity();
  // A NaN or shrinking multiplier acts as 1.
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{100ms, nan, 1000ms, 0}, 5), 100ms);
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{100ms, 0.5, 1000ms, 0}, 5), 100ms);
  // An infinite multiplier saturates at the cap.
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{100ms, infinity, 1000ms, 0}, 2), 1000ms);
  // Zero initial stays zero, even against an infinite growth.
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{0ms, infinity, 1000ms, 0}, 3), 0ms);
  // Initial above the cap is capped; negative values mean no wait.
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{5000ms, 2.0, 1000ms, 0}, 1), 1000ms);
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{-5ms, 2.0, 1000ms, 0}, 2), 0ms);
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{100ms, 2.0, -1ms, 0}, 2), 0ms);
  EXPECT_EQ(delay_before_retry(FixedBackOffs{{-7ms}}, 1), 0ms);
  EXPECT_EQ(delay_before_retry(InfiniteBackOff{-7ms}, 1), 0ms);
  // A cap at the largest representable delay does not overflow.
  const auto huge = milliseconds::max();
  EXPECT_EQ(delay_before_retry(ExponentialBackOff{1ms, 10.0, huge, 0}, 400), huge);
}

// ---------------------------------------------------------------- policies

TEST(RetryPoliciesTest, ForTopicFallsBackToTheDefault) {
  RetryPolicies policies;
  policies.default_policy = BlockingRetry{InfiniteBackOff{10ms}};
  policies.per_topic["orders"] = RetryTopics{{1s}};
  policies.per_topic["metrics"] = NoRetry{};
  EXPECT_TRUE(std::holds_alternative<RetryTopics>(policies.for_topic("orders")));
  EXPECT_TRUE(std::holds_alternative<NoRetry>(policies.for_topic("metrics")));
  EXPECT_TRUE(std::holds_alternative<BlockingRetry>(policies.for_topic("unlisted")));
  EXPECT_EQ(&policies.for_topic("unlisted"), &policies.default_policy);
}

TEST(RetryPoliciesTest, NeedsTopicsWhenAnyPolicyEndsInTheDeadLetterTopic) {
  RetryPolicies policies;
  EXPECT_FALSE(policies.needs_topics());
  policies.per_topic["metrics"] = NoRetry{};
  EXPECT_FALSE(policies.needs_topics());
  policies.per_topic["orders"] = RetryTopics{{1s}};
  EXPECT_TRUE(policies.needs_topics());

  RetryPolicies blocking_default;
  blocking_default.default_policy = BlockingRetry{};
  EXPECT_TRUE(blocking_default.needs_topics());

  RetryPolicies blocking_topic;
  blocking_topic.per_topic["audit"] = BlockingRetry{InfiniteBackOff{}};
  EXPECT_TRUE(blocking_topic.needs_topics());
}

TEST(RetryTopicNamerTest, NamesRetryAndDeadLetterTopics) {
  EXPECT_EQ(RetryTopicNamer::retry_topic("orders", "billing", 1), "orders-billing-retry-1");
  EXPECT_EQ(RetryTopicNamer::retry_topic("orders", "billing", 12), "orders-billing-retry-12");
  EXPECT_EQ(RetryTopicNamer::retry_topic("a.b", "g-1", 0), "a.b-g-1-retry-0");
  EXPECT_EQ(RetryTopicNamer::dead_letter_topic("orders", "billing"), "orders-billing-dlt");
}

TEST(RetryTopicNamerTest, RejectsNegativeStepsAndEmptyNames) {
  EXPECT_THROW(RetryTopicNamer::retry_topic("orders", "billing", -1), Error);
  EXPECT_THROW(RetryTopicNamer::retry_topic("", "billing", 1), Error);
  EXPECT_THROW(RetryTopicNamer::dead_letter_topic("orders", ""), Error);
}

// ---------------------------------------------------------------- parsing

// The example documented in retry.h.
constexpr const char* kDocumentedYaml = R"(
default: { blocking: { backoffs_ms: [100, 200] } }
topics:
  orders:   { retry_topics: { backoffs_ms: [1000, 2000] } }
  payments: { blocking: { exponential: { initial_ms: 100, multiplier: 2,
                                         max_ms: 30000, max_attempts: 0 } } }
  audit:    { blocking: { infinite_ms: 1000 } }
  metrics:  none
topic_settings: { partitions: 4, replication_factor: 3, retention_ms: 604800000 }
)";

RetryPolicies documented_policies() {
  RetryPolicies expected;
  expected.default_policy = BlockingRetry{FixedBackOffs{{100ms, 200ms}}};
  expected.per_topic["orders"] = RetryTopics{{1000ms, 2000ms}};
  expected.per_topic["payments"] = BlockingRetry{ExponentialBackOff{100ms, 2.0, 30000ms, 0}};
  expected.per_topic["audit"] = BlockingRetry{InfiniteBackOff{1000ms}};
  expected.per_topic["metrics"] = NoRetry{};
  expected.topic_settings = RetryTopicSettings{4, 3, milliseconds(604800000)};
  return expected;
}

TEST(RetryParsingTest, ParsesTheDocumentedYamlExample) {
  const auto policies = parse_retry_policies(kDocumentedYaml);
  EXPECT_EQ(policies, documented_policies());
  // Field by field too, so a wrong operator== cannot hide a mistake.
  const auto& payments = std::get<BlockingRetry>(policies.for_topic("payments"));
  const auto& exponential = std::get<ExponentialBackOff>(payments.back_off);
  EXPECT_EQ(exponential.initial, 100ms);
  EXPECT_EQ(exponential.multiplier, 2.0);
  EXPECT_EQ(exponential.max, 30000ms);
  EXPECT_EQ(exponential.max_attempts, 0);
  EXPECT_EQ(std::get<RetryTopics>(policies.for_topic("orders")).steps,
            (std::vector<milliseconds>{1000ms, 2000ms}));
  EXPECT_EQ(std::get<InfiniteBackOff>(std::get<BlockingRetry>(policies.for_topic("audit")).back_off)
                .delay,
            1000ms);
  EXPECT_TRUE(std::holds_alternative<NoRetry>(policies.for_topic("metrics")));
  EXPECT_EQ(policies.topic_settings.partitions, 4);
  EXPECT_EQ(policies.topic_settings.replication_factor, 3);
  EXPECT_EQ(policies.topic_settings.retention, milliseconds(604800000));
}

TEST(RetryParsingTest, ParsesTheDocumentedExampleWrittenAsJson) {
  const auto policies = parse_retry_policies(R"({
    "default": {"blocking": {"backoffs_ms": [100, 200]}},
    "topics": {
      "orders": {"retry_topics": {"backoffs_ms": [1000, 2000]}},
      "payments": {"blocking": {"exponential": {"initial_ms": 100, "multiplier": 2.0,
                                                "max_ms": 30000, "max_attempts": 0}}},
      "audit": {"blocking": {"infinite_ms": 1000}},
      "metrics": "none"
    },
    "topic_settings": {"partitions": 4, "replication_factor": 3, "retention_ms": 604800000}
  })");
  EXPECT_EQ(policies, documented_policies());
}

TEST(RetryParsingTest, ParsesCompactJson) {
  const auto policies =
      parse_retry_policies(R"({"default":{"retry_topics":{"backoffs_ms":[5,10]}},"topics":{}})");
  EXPECT_EQ(policies.default_policy, RetryPolicy(RetryTopics{{5ms, 10ms}}));
}

TEST(RetryParsingTest, EmptyTextAndOmittedKeysGiveDefaults) {
  EXPECT_EQ(parse_retry_policies(""), RetryPolicies{});
  EXPECT_EQ(parse_retry_policies("{}"), RetryPolicies{});
  const auto exponential = parse_retry_policies("default: { blocking: { exponential: {} } }");
  EXPECT_EQ(exponential.default_policy, RetryPolicy(BlockingRetry{ExponentialBackOff{}}));
  const auto partial = parse_retry_policies(
      "default: { blocking: { exponential: { multiplier: 1.5 } } }\n"
      "topic_settings: { partitions: 2 }\n");
  EXPECT_EQ(std::get<ExponentialBackOff>(std::get<BlockingRetry>(partial.default_policy).back_off),
            (ExponentialBackOff{100ms, 1.5, 30000ms, 0}));
  EXPECT_EQ(partial.topic_settings, (RetryTopicSettings{2, -1, std::nullopt}));
}

TEST(RetryParsingTest, RoundTripsThroughJson) {
  const auto documented = documented_policies();
  EXPECT_EQ(parse_retry_policies(to_json(documented)), documented);

  RetryPolicies defaults;
  EXPECT_EQ(parse_retry_policies(to_json(defaults)), defaults);

  RetryPolicies odd;
  odd.default_policy = BlockingRetry{};  // empty fixed schedule: straight to the dead-letter topic
  odd.per_topic["with.dots-and_dashes"] = BlockingRetry{ExponentialBackOff{0ms, 1.1, 7ms, 9}};
  odd.per_topic["zero"] = RetryTopics{{0ms}};
  odd.topic_settings = RetryTopicSettings{-1, 1, 1ms};
  const auto json = to_json(odd);
  EXPECT_EQ(parse_retry_policies(json), odd) << json;
}

TEST(RetryParsingTest, ToJsonHasTheDocumentedShape) {
  RetryPolicies policies;
  policies.per_topic["orders"] = RetryTopics{{1000ms}};
  const auto json = to_json(policies);
  EXPECT_CONTAINS(json, R"("default": "none")");
  EXPECT_CONTAINS(json, R"("retry_topics")");
  EXPECT_CONTAINS(json, R"("backoffs_ms")");
  EXPECT_EQ(json.find("retention_ms"), std::string::npos) << json;
}

// ---------------------------------------------------------------- errors

TEST(RetryParsingErrorTest, MalformedText) {
  EXPECT_CONTAINS(retry_error("default: [blocking\n"), "not valid YAML or JSON");
  EXPECT_CONTAINS(retry_error(R"({"default": )"), "not valid YAML or JSON");
  EXPECT_CONTAINS(retry_error("- a\n- b\n"), "expected a mapping");
}

TEST(RetryParsingErrorTest, UnknownKeysAreNamed) {
  EXPECT_CONTAINS(retry_error("defaults: none\n"), "defaults: unknown key");
  EXPECT_CONTAINS(retry_error("topics: { orders: { blockng: { infinite_ms: 1 } } }\n"),
                  "topics.orders.blockng: unknown key");
  EXPECT_CONTAINS(retry_error("default: { blocking: { backoffs: [1] } }\n"),
                  "default.blocking.backoffs: unknown key");
  EXPECT_CONTAINS(retry_error("default: { blocking: { exponential: { initial: 5 } } }\n"),
                  "default.blocking.exponential.initial: unknown key");
  EXPECT_CONTAINS(retry_error("default: { retry_topics: { backoffs_ms: [1], extra: 2 } }\n"),
                  "default.retry_topics.extra: unknown key");
  EXPECT_CONTAINS(retry_error("topic_settings: { partition: 3 }\n"),
                  "topic_settings.partition: unknown key");
}

TEST(RetryParsingErrorTest, ErrorsNameTheLine) {
  const auto message = retry_error("topics:\n  orders:\n    retry_topics: { backoffs_ms: [-1] }\n");
  EXPECT_CONTAINS(message, "<retry policies>:3: topics.orders.retry_topics.backoffs_ms");
}

TEST(RetryParsingErrorTest, UnknownPolicyNames) {
  EXPECT_CONTAINS(retry_error("default: always\n"), "default: \"always\" is not a policy");
  EXPECT_CONTAINS(retry_error("topics: { metrics: [none] }\n"), "topics.metrics");
  EXPECT_CONTAINS(retry_error("default: {}\n"),
                  "default: expected one of blocking, retry_topics");
  EXPECT_CONTAINS(retry_error("default: { blocking: }\n"), "default.blocking: expected a back-off");
  EXPECT_CONTAINS(retry_error("default: { blocking: {} }\n"),
                  "default.blocking: expected one of backoffs_ms, infinite_ms, exponential");
}

TEST(RetryParsingErrorTest, BothBlockingAndRetryTopics) {
  const auto message = retry_error(
      "topics:\n  orders: { blocking: { infinite_ms: 5 }, retry_topics: { backoffs_ms: [1] } }\n");
  EXPECT_CONTAINS(message, "topics.orders.retry_topics: give only one of blocking, retry_topics");
}

TEST(RetryParsingErrorTest, MoreThanOneBackOffKind) {
  EXPECT_CONTAINS(retry_error("default: { blocking: { backoffs_ms: [1], infinite_ms: 5 } }\n"),
                  "default.blocking.infinite_ms: give only one of");
}

TEST(RetryParsingErrorTest, NegativeAndMistypedDelays) {
  EXPECT_CONTAINS(retry_error("default: { blocking: { backoffs_ms: [100, -5] } }\n"),
                  "default.blocking.backoffs_ms: expected a non-negative integer, got \"-5\"");
  EXPECT_CONTAINS(retry_error("default: { blocking: { infinite_ms: -1 } }\n"),
                  "default.blocking.infinite_ms: expected a non-negative integer");
  EXPECT_CONTAINS(retry_error("default: { blocking: { infinite_ms: soon } }\n"),
                  "default.blocking.infinite_ms: expected an integer, got \"soon\"");
  EXPECT_CONTAINS(retry_error("default: { blocking: { infinite_ms: } }\n"),
                  "default.blocking.infinite_ms: expected milliseconds");
  EXPECT_CONTAINS(retry_error("default: { blocking: { backoffs_ms: 100 } }\n"),
                  "default.blocking.backoffs_ms: expected a list of milliseconds");
  EXPECT_CONTAINS(retry_error("default: { blocking: { backoffs_ms: [1.5] } }\n"),
                  "default.blocking.backoffs_ms: expected an integer, got \"1.5\"");
  EXPECT_CONTAINS(retry_error("default: { retry_topics: { backoffs_ms: [[1]] } }\n"),
                  "default.retry_topics.backoffs_ms: expected an integer, got a list");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { initial_ms: -100 } } }\n"),
      "default.blocking.exponential.initial_ms: expected a non-negative integer");
}

TEST(RetryParsingErrorTest, RetryTopicsNeedAtLeastOneBackOff) {
  EXPECT_CONTAINS(retry_error("default: { retry_topics: { backoffs_ms: [] } }\n"),
                  "default.retry_topics.backoffs_ms: retry_topics needs at least one back-off");
  EXPECT_CONTAINS(retry_error("default: { retry_topics: {} }\n"),
                  "retry_topics needs at least one back-off");
  EXPECT_CONTAINS(retry_error("default: { retry_topics: }\n"),
                  "default.retry_topics: expected { backoffs_ms: [...] }");
}

TEST(RetryParsingErrorTest, TooManySteps) {
  std::string list = "[";
  for (int i = 0; i < 101; ++i) list += (i ? ", " : "") + std::to_string(i);
  list += "]";
  EXPECT_CONTAINS(retry_error("default: { retry_topics: { backoffs_ms: " + list + " } }\n"),
                  "default.retry_topics.backoffs_ms: 101 retry steps, at most 100");
  EXPECT_CONTAINS(retry_error("default: { blocking: { backoffs_ms: " + list + " } }\n"),
                  "default.blocking.backoffs_ms: 101 retry steps, at most 100");
  // 100 is fine.
  std::string hundred = "[";
  for (int i = 0; i < 100; ++i) hundred += (i ? ", " : "") + std::to_string(i);
  hundred += "]";
  EXPECT_EQ(std::get<RetryTopics>(
                parse_retry_policies("default: { retry_topics: { backoffs_ms: " + hundred + " } }")
                    .default_policy)
                .steps.size(),
            100u);
}

TEST(RetryParsingErrorTest, ExponentialLimits) {
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { multiplier: 0.5 } } }\n"),
      "default.blocking.exponential.multiplier: must be at least 1, got 0.5");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { multiplier: .nan } } }\n"),
      "default.blocking.exponential.multiplier: expected a number");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { multiplier: .inf } } }\n"),
      "default.blocking.exponential.multiplier: expected a number");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { multiplier: fast } } }\n"),
      "default.blocking.exponential.multiplier: expected a number, got \"fast\"");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { initial_ms: 500, max_ms: 100 } } }\n"),
      "default.blocking.exponential.max_ms: must be at least initial_ms (500)");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { max_attempts: -1 } } }\n"),
      "default.blocking.exponential.max_attempts: expected an integer from 0");
  EXPECT_CONTAINS(
      retry_error("default: { blocking: { exponential: { max_attempts: 3000000000 } } }\n"),
      "default.blocking.exponential.max_attempts: expected an integer from 0");
}

TEST(RetryParsingErrorTest, TopicSettingsLimits) {
  EXPECT_CONTAINS(retry_error("topic_settings: { partitions: 0 }\n"),
                  "topic_settings.partitions: must be at least 1, or -1");
  EXPECT_CONTAINS(retry_error("topic_settings: { partitions: -2 }\n"),
                  "topic_settings.partitions: expected an integer from -1");
  EXPECT_CONTAINS(retry_error("topic_settings: { replication_factor: three }\n"),
                  "topic_settings.replication_factor: expected an integer");
  EXPECT_CONTAINS(retry_error("topic_settings: { retention_ms: 0 }\n"),
                  "topic_settings.retention_ms: must be positive");
  EXPECT_CONTAINS(retry_error("topic_settings: 4\n"), "topic_settings: expected a mapping");
  EXPECT_CONTAINS(retry_error("topics: [orders]\n"), "topics: expected a mapping");
}

// ---------------------------------------------------------------- config loader

TEST(ConfigRetryTest, ConsumerRetrySectionFillsTheOptions) {
  const auto config = parse_config(R"(
consumer:
  group_id: billing
  retry:
    default: { blocking: { backoffs_ms: [100, 200] } }
    topics:
      orders:   { retry_topics: { backoffs_ms: [1000, 2000] } }
      payments: { blocking: { exponential: { initial_ms: 100, multiplier: 2,
                                             max_ms: 30000, max_attempts: 0 } } }
      audit:    { blocking: { infinite_ms: 1000 } }
      metrics:  none
    topic_settings: { partitions: 4, replication_factor: 3, retention_ms: 604800000 }
)");
  EXPECT_EQ(config.consumer.group_id, "billing");
  EXPECT_EQ(config.consumer.retry, documented_policies());
}

TEST(ConfigRetryTest, RetryDefaultsToNoRetry) {
  EXPECT_EQ(parse_config("consumer: { group_id: g }\n").consumer.retry, RetryPolicies{});
  EXPECT_TRUE(std::holds_alternative<PartitionOrdered>(parse_config("").consumer.dispatch));
}

TEST(ConfigRetryTest, RetryErrorsNameTheFullKeyPath) {
  const auto message = config_error(
      "consumer:\n  retry:\n    topics:\n      orders: { retry_topics: { backoffs_ms: [] } }\n");
  EXPECT_CONTAINS(message, "<config>:4: consumer.retry.topics.orders.retry_topics.backoffs_ms");
  EXPECT_CONTAINS(config_error("consumer:\n  retry: { defualt: none }\n"),
                  "consumer.retry.defualt: unknown key");
  EXPECT_CONTAINS(config_error("consumer:\n  retry: none\n"), "consumer.retry: expected a mapping");
}

TEST(ConfigDispatchTest, ScalarNamesSelectTheModeWithDefaults) {
  EXPECT_TRUE(std::holds_alternative<PartitionOrdered>(
      parse_config("consumer: { dispatch: partition_ordered }\n").consumer.dispatch));
  const auto key_ordered = parse_config("consumer: { dispatch: key_ordered }\n").consumer.dispatch;
  ASSERT_TRUE(std::holds_alternative<KeyOrdered>(key_ordered));
  EXPECT_EQ(std::get<KeyOrdered>(key_ordered).parallelism, 64u);
  const auto batched = parse_config("consumer: { dispatch: batched }\n").consumer.dispatch;
  ASSERT_TRUE(std::holds_alternative<Batched>(batched));
  EXPECT_EQ(std::get<Batched>(batched).max_records, 500u);
}

TEST(ConfigDispatchTest, MappingsSetTheModeSettings) {
  const auto key_ordered =
      parse_config("consumer:\n  dispatch: { key_ordered: { parallelism: 8 } }\n").consumer.dispatch;
  ASSERT_TRUE(std::holds_alternative<KeyOrdered>(key_ordered));
  EXPECT_EQ(std::get<KeyOrdered>(key_ordered).parallelism, 8u);

  const auto batched = parse_config(R"(
consumer:
  dispatch:
    batched: { max_records: 50, max_bytes: 2048, max_wait_ms: 7 }
)").consumer.dispatch;
  ASSERT_TRUE(std::holds_alternative<Batched>(batched));
  EXPECT_EQ(std::get<Batched>(batched).max_records, 50u);
  EXPECT_EQ(std::get<Batched>(batched).max_bytes, 2048u);
  EXPECT_EQ(std::get<Batched>(batched).max_wait, 7ms);

  const auto partial =
      parse_config("consumer: { dispatch: { batched: { max_records: 3 } } }\n").consumer.dispatch;
  EXPECT_EQ(std::get<Batched>(partial).max_records, 3u);
  EXPECT_EQ(std::get<Batched>(partial).max_bytes, 1u << 20);
  EXPECT_EQ(std::get<Batched>(partial).max_wait, 100ms);

  const auto empty = parse_config("consumer: { dispatch: { key_ordered: } }\n").consumer.dispatch;
  EXPECT_EQ(std::get<KeyOrdered>(empty).parallelism, 64u);
  EXPECT_TRUE(std::holds_alternative<PartitionOrdered>(
      parse_config("consumer: { dispatch: { partition_ordered: {} } }\n").consumer.dispatch));
}

TEST(ConfigDispatchTest, ErrorsNameTheKey) {
  EXPECT_CONTAINS(config_error("consumer: { dispatch: random }\n"),
                  "consumer.dispatch: \"random\" is not one of partition_ordered, key_ordered, "
                  "batched");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { keyordered: {} } }\n"),
                  "consumer.dispatch.keyordered: unknown key");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: {} }\n"),
                  "consumer.dispatch: expected one of partition_ordered, key_ordered, batched");
  EXPECT_CONTAINS(
      config_error("consumer: { dispatch: { key_ordered: {}, batched: {} } }\n"),
      "consumer.dispatch.batched: give only one of");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { key_ordered: { parallelism: 0 } } }\n"),
                  "consumer.dispatch.key_ordered.parallelism: must be at least 1");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { key_ordered: { threads: 2 } } }\n"),
                  "consumer.dispatch.key_ordered.threads: unknown key");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { batched: { max_records: 0 } } }\n"),
                  "consumer.dispatch.batched.max_records: must be at least 1");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { batched: { max_bytes: -1 } } }\n"),
                  "consumer.dispatch.batched.max_bytes: expected a non-negative integer");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { batched: { max_wait_ms: later } } }\n"),
                  "consumer.dispatch.batched.max_wait_ms: expected an integer");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: { partition_ordered: { x: 1 } } }\n"),
                  "consumer.dispatch.partition_ordered.x: unknown key");
  EXPECT_CONTAINS(config_error("consumer: { dispatch: [key_ordered] }\n"),
                  "consumer.dispatch: expected a mapping");
}

}  // namespace
}  // namespace whippet
