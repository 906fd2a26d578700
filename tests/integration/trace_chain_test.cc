// Trace propagation end to end on a real broker: one trace followed through
// services that know nothing about tracing.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/inbox.h"

#include "support/test_cluster.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"
#include "whippet/trace_context.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

using testing::Inbox;

ConsumerOptions consumer_options(const std::string& topic,
                                 std::vector<std::string> context_headers) {
  ConsumerOptions options;
  options.cluster = testing::test_cluster_options();
  options.group_id = testing::unique_name("group");
  options.topics = {topic};
  options.initial_offset = InitialOffset::kEarliest;
  options.session_timeout = 6000ms;
  options.context_headers = std::move(context_headers);
  return options;
}

ProducerRecord record_for(const std::string& topic, std::optional<Bytes> value) {
  ProducerRecord record;
  record.topic = topic;
  record.value = std::move(value);
  return record;
}

TEST(TraceChainTest, OneTraceIdIsFollowedAcrossThreeServicesInAChain) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic_a = testing::unique_name("trace-a");
  const auto topic_b = testing::unique_name("trace-b");
  testing::create_topic(cluster, topic_a, 1);
  testing::create_topic(cluster, topic_b, 1);
  ProducerOptions producer_options;
  producer_options.cluster = cluster;

  // Service C: the end of the chain.
  Inbox received_by_c;
  Consumer service_c(consumer_options(topic_b, {}),
                     [&](const Record& record) { received_by_c.add(record); });

  // Service B: forwards what it reads from a to b. It never touches headers:
  // the consumer makes the record's context current while the handler runs,
  // and the producer continues it.
  Producer producer_b(producer_options);
  Consumer service_b(consumer_options(topic_a, {"x-request-id"}), [&](const Record& record) {
    producer_b.send(record_for(topic_b, record.value)).get();
  });

  // Service A: starts the trace, as if serving an incoming request.
  auto root = TraceContext::new_root();
  root.context_headers = {{"x-request-id", "r-42"}};
  {
    Producer producer_a(producer_options);
    ScopedTraceContext scope(root);
    producer_a.send(record_for(topic_a, "order 1")).get();
  }

  const auto records = received_by_c.wait_for(1, 60s);
  service_b.close(10s);
  service_c.close(10s);
  ASSERT_EQ(records.size(), 1u) << "the record never reached service C";
  const auto& record = records[0];
  EXPECT_EQ(record.value, "order 1");
  const auto context = TraceContext::from_headers(record.headers, {"x-request-id"});
  ASSERT_TRUE(context) << "service C's record carries no valid traceparent";
  EXPECT_EQ(context->trace_id, root.trace_id);
  EXPECT_NE(context->span_id, root.span_id);
  EXPECT_EQ(last_header(record.headers, "x-request-id"), "r-42");
}

}  // namespace
}  // namespace whippet
