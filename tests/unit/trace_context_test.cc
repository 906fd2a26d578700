// W3C trace context: parsing, ids, header injection, the current context,
// and the producer continuing the current trace (on the embedded cluster).

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/inbox.h"

#include "support/test_cluster.h"
#include "tracing/propagation.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"
#include "whippet/trace_context.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSpecExample = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
constexpr const char* kSpecTraceId = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kSpecSpanId = "b7ad6b7169203331";

std::size_t count_key(const Headers& headers, const std::string& key) {
  std::size_t count = 0;
  for (const auto& header : headers) count += header.key == key ? 1 : 0;
  return count;
}

bool is_lowercase_hex(const std::string& text, std::size_t length) {
  return text.size() == length &&
         text.find_first_not_of("0123456789abcdef") == std::string::npos &&
         text.find_first_not_of('0') != std::string::npos;
}

TEST(TraceContextTest, ParsesTheSpecificationsExamples) {
  const auto sampled = TraceContext::parse_traceparent(kSpecExample);
  ASSERT_TRUE(sampled);
  EXPECT_EQ(sampled->trace_id, kSpecTraceId);
  EXPECT_EQ(sampled->span_id, kSpecSpanId);
  EXPECT_EQ(sampled->flags, 0x01);

  const auto not_sampled =
      TraceContext::parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  ASSERT_TRUE(not_sampled);
  EXPECT_EQ(not_sampled->flags, 0x00);

  const auto other =
      TraceContext::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(other->span_id, "00f067aa0ba902b7");
}

TEST(TraceContextTest, ReadsTheFirstFourFieldsOfALaterVersion) {
  // A later version may append fields; they are ignored, and the context is
  // written back as version 00.
  const auto future = TraceContext::parse_traceparent(
      "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-will-be-like");
  ASSERT_TRUE(future);
  EXPECT_EQ(future->trace_id, kSpecTraceId);
  EXPECT_EQ(future->span_id, kSpecSpanId);
  EXPECT_EQ(future->traceparent(), kSpecExample);

  EXPECT_TRUE(TraceContext::parse_traceparent(
      "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
}

TEST(TraceContextTest, RejectsInvalidTraceparents) {
  const std::vector<std::string> invalid = {
      "",
      "00",
      // version ff is forbidden; versions are two lowercase hex digits
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      ".0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      // all-zero ids
      "00-00000000000000000000000000000000-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
      // uppercase hex
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",
      // wrong lengths
      "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033311-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-011",
      // not hex, wrong delimiters, surrounding whitespace
      "00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333g-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x",
      "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01",
      " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ",
      // version 00 has exactly four fields
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
      // a later version's extra fields must follow a dash
      "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.what-the-future",
      "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01what-the-future",
  };
  for (const auto& value : invalid) {
    EXPECT_FALSE(TraceContext::parse_traceparent(value)) << '"' << value << '"';
  }
}

TEST(TraceContextTest, NewRootHasValidRandomIdsAndRoundTrips) {
  const auto first = TraceContext::new_root();
  const auto second = TraceContext::new_root();
  EXPECT_TRUE(is_lowercase_hex(first.trace_id, 32)) << first.trace_id;
  EXPECT_TRUE(is_lowercase_hex(first.span_id, 16)) << first.span_id;
  EXPECT_EQ(first.flags, 0x01);
  EXPECT_NE(first.trace_id, second.trace_id);
  EXPECT_NE(first.span_id, second.span_id);

  const auto parsed = TraceContext::parse_traceparent(first.traceparent());
  ASSERT_TRUE(parsed) << first.traceparent();
  EXPECT_EQ(parsed->trace_id, first.trace_id);
  EXPECT_EQ(parsed->span_id, first.span_id);
  EXPECT_EQ(parsed->flags, first.flags);
  EXPECT_EQ(TraceContext::parse_traceparent(kSpecExample)->traceparent(), kSpecExample);
}

TEST(TraceContextTest, ChildKeepsTheTraceAndContextWithANewSpan) {
  auto parent = *TraceContext::parse_traceparent(kSpecExample);
  parent.tracestate = "congo=t61rcWkgMzE";
  parent.context_headers = {{"x-request-id", "r-42"}};
  const auto child = parent.child();
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_TRUE(is_lowercase_hex(child.span_id, 16));
  EXPECT_EQ(child.flags, parent.flags);
  EXPECT_EQ(child.tracestate, parent.tracestate);
  EXPECT_EQ(child.context_headers, parent.context_headers);
}

TEST(TraceContextTest, ChildClearsFlagBitsTheSpecificationReserves) {
  // 01 sampled and 02 random trace id go on; the reserved bits are sent as zero.
  const auto parent =
      TraceContext::parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff");
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->flags, 0xff);
  EXPECT_EQ(parent->child().flags, 0x03);
}

TEST(TraceContextTest, FromHeadersReadsTheTraceAndTheNamedContextHeaders) {
  const Headers headers = {
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"x-request-id", "r-1"},
      {"tracestate", "rojo=00f067aa0ba902b7"},
      {"traceparent", kSpecExample},
      {"tracestate", "congo=t61rcWkgMzE"},
      {"x-request-id", "r-2"},
      {"x-tenant", std::nullopt},
      {"x-unrelated", "not carried"},
  };
  const auto context = TraceContext::from_headers(headers, {"x-request-id", "x-tenant", "x-absent"});
  ASSERT_TRUE(context);
  // The last traceparent wins, as for any repeated Kafka header key.
  EXPECT_EQ(context->trace_id, kSpecTraceId);
  EXPECT_EQ(context->span_id, kSpecSpanId);
  // Repeated tracestate headers are one list, joined in order.
  EXPECT_EQ(context->tracestate, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  const Headers expected_context = {{"x-request-id", "r-2"}, {"x-tenant", std::nullopt}};
  EXPECT_EQ(context->context_headers, expected_context);
}

TEST(TraceContextTest, FromHeadersIgnoresAMissingOrMalformedTraceparent) {
  EXPECT_FALSE(TraceContext::from_headers({{"x-request-id", "r-1"}}, {"x-request-id"}));
  EXPECT_FALSE(TraceContext::from_headers({{"traceparent", "garbage"}}, {}));
  EXPECT_FALSE(TraceContext::from_headers({{"traceparent", std::nullopt}}, {}));
}

TEST(TraceContextTest, InjectReplacesExistingHeadersWithoutDuplicating) {
  auto context = TraceContext::new_root();
  context.tracestate = "congo=t61rcWkgMzE";
  context.context_headers = {{"x-request-id", "r-new"}};
  Headers headers = {
      {"traceparent", kSpecExample},
      {"x-request-id", "r-old"},
      {"tracestate", "rojo=00f067aa0ba902b7"},
      {"traceparent", kSpecExample},
      {"content-type", "json"},
  };
  context.inject(headers);
  context.inject(headers);
  EXPECT_EQ(count_key(headers, "traceparent"), 1u);
  EXPECT_EQ(count_key(headers, "tracestate"), 1u);
  EXPECT_EQ(count_key(headers, "x-request-id"), 1u);
  EXPECT_EQ(last_header(headers, "traceparent"), context.traceparent());
  EXPECT_EQ(last_header(headers, "tracestate"), "congo=t61rcWkgMzE");
  EXPECT_EQ(last_header(headers, "x-request-id"), "r-new");
  EXPECT_EQ(last_header(headers, "content-type"), "json");
  EXPECT_EQ(headers.size(), 4u);
}

TEST(TraceContextTest, InjectWithoutTracestateRemovesAStaleOne) {
  const auto context = TraceContext::new_root();
  Headers headers = {{"tracestate", "rojo=00f067aa0ba902b7"}};
  context.inject(headers);
  EXPECT_EQ(count_key(headers, "tracestate"), 0u);
  EXPECT_EQ(last_header(headers, "traceparent"), context.traceparent());
}

TEST(TraceContextTest, ScopedContextsNestAndRestore) {
  EXPECT_EQ(current_trace_context(), nullptr);
  const auto outer_context = TraceContext::new_root();
  const auto inner_context = TraceContext::new_root();
  {
    ScopedTraceContext outer(outer_context);
    ASSERT_NE(current_trace_context(), nullptr);
    EXPECT_EQ(current_trace_context()->trace_id, outer_context.trace_id);
    {
      ScopedTraceContext inner(inner_context);
      EXPECT_EQ(current_trace_context()->trace_id, inner_context.trace_id);
    }
    ASSERT_NE(current_trace_context(), nullptr);
    EXPECT_EQ(current_trace_context()->trace_id, outer_context.trace_id);
  }
  EXPECT_EQ(current_trace_context(), nullptr);
}

TEST(TraceContextTest, TheCurrentContextBelongsToOneThread) {
  ScopedTraceContext scope(TraceContext::new_root());
  // Starts non-null so that the assertion proves the other thread wrote it.
  const TraceContext* seen_elsewhere = current_trace_context();
  std::thread([&] { seen_elsewhere = current_trace_context(); }).join();
  EXPECT_EQ(seen_elsewhere, nullptr);
  EXPECT_NE(current_trace_context(), nullptr);
}

TEST(TracePropagationTest, ARecordWithoutTraceGetsAChildOfTheCurrentContext) {
  auto current = TraceContext::new_root();
  current.tracestate = "congo=t61rcWkgMzE";
  current.context_headers = {{"x-request-id", "r-42"}, {"x-tenant", "acme"}};
  // The record's own x-tenant wins; its orphan tracestate belongs to no trace.
  Headers headers = {{"x-tenant", "globex"}, {"tracestate", "rojo=00f067aa0ba902b7"}};
  tracing::continue_trace(current, headers);
  const auto sent = TraceContext::from_headers(headers, {"x-request-id", "x-tenant"});
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->trace_id, current.trace_id);
  EXPECT_NE(sent->span_id, current.span_id);
  EXPECT_EQ(sent->tracestate, "congo=t61rcWkgMzE");
  EXPECT_EQ(count_key(headers, "x-tenant"), 1u);
  EXPECT_EQ(last_header(headers, "x-tenant"), "globex");
  EXPECT_EQ(last_header(headers, "x-request-id"), "r-42");
}

TEST(TracePropagationTest, ARecordWithItsOwnTraceparentIsLeftAsItIs) {
  auto current = TraceContext::new_root();
  current.context_headers = {{"x-request-id", "r-42"}};
  const Headers original = {{"traceparent", kSpecExample}, {"tracestate", "rojo=1"}};
  auto headers = original;
  tracing::continue_trace(current, headers);
  EXPECT_EQ(headers, original);
}

TEST(TracePropagationTest, OutsideAContextTheRecordsOwnHeadersAreSent) {
  const Headers headers = {{"content-type", "json"}};
  std::optional<Headers> traced;
  const auto& sent = tracing::continue_current_trace(headers, traced);
  EXPECT_EQ(&sent, &headers);
  EXPECT_FALSE(traced.has_value());
}

TEST(TracePropagationTest, InsideAContextACopyCarriesTheTraceAndTheRecordsHeadersAreUntouched) {
  const Headers headers = {{"content-type", "json"}};
  const auto context = TraceContext::new_root();
  ScopedTraceContext scope(context);
  std::optional<Headers> traced;
  const auto& sent = tracing::continue_current_trace(headers, traced);
  ASSERT_TRUE(traced.has_value());
  EXPECT_EQ(&sent, &*traced);
  EXPECT_EQ(count_key(sent, "content-type"), 1u);
  const auto continued = TraceContext::from_headers(sent, {});
  ASSERT_TRUE(continued);
  EXPECT_EQ(continued->trace_id, context.trace_id);
  EXPECT_NE(continued->span_id, context.span_id) << "a child span, not the current one";
}

TEST(TracePropagationTest, InsideAContextARecordWithItsOwnTraceparentIsNotCopied) {
  const Headers headers = {{"traceparent", kSpecExample}};
  ScopedTraceContext scope(TraceContext::new_root());
  std::optional<Headers> traced;
  EXPECT_EQ(&tracing::continue_current_trace(headers, traced), &headers);
  EXPECT_FALSE(traced.has_value());
}

using testing::Inbox;

class ProducerTracePropagationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_options_.brokers = cluster_.bootstrap_servers();
    cluster_.create_topic(kTopic, 1);
  }

  ProducerOptions producer_options() const {
    ProducerOptions options;
    options.cluster = cluster_options_;
    return options;
  }

  // Reads the topic back from the start with the SDK's own consumer.
  std::vector<Record> read_back(std::size_t count) {
    ConsumerOptions options;
    options.cluster = cluster_options_;
    options.group_id = testing::unique_name("reader");
    options.topics = {kTopic};
    options.initial_offset = InitialOffset::kEarliest;
    options.session_timeout = 6000ms;
    Inbox inbox;
    Consumer consumer(options, [&](const Record& record) { inbox.add(record); });
    auto records = inbox.wait_for(count, 30s);
    consumer.close(5s);
    return records;
  }

  static ProducerRecord record(std::string value, Headers headers = {}) {
    ProducerRecord record;
    record.topic = kTopic;
    record.value = std::move(value);
    record.headers = std::move(headers);
    return record;
  }

  static constexpr const char* kTopic = "t";
  EmbeddedCluster cluster_{EmbeddedCluster::Options{}};
  ClusterOptions cluster_options_;
};

TEST_F(ProducerTracePropagationTest, ARecordSentInsideAContextContinuesItsTrace) {
  auto context = TraceContext::new_root();
  context.context_headers = {{"x-request-id", "r-42"}};
  {
    Producer producer(producer_options());
    ScopedTraceContext scope(context);
    producer.send(record("traced")).get();
  }
  const auto records = read_back(1);
  ASSERT_EQ(records.size(), 1u);
  const auto received = TraceContext::from_headers(records[0].headers, {"x-request-id"});
  ASSERT_TRUE(received) << "no valid traceparent on the record";
  EXPECT_EQ(received->trace_id, context.trace_id);
  EXPECT_NE(received->span_id, context.span_id);
  EXPECT_EQ(last_header(records[0].headers, "x-request-id"), "r-42");
}

TEST_F(ProducerTracePropagationTest, OneRecordSentTwiceInsideAContextGetsAChildSpanEachTime) {
  const auto context = TraceContext::new_root();
  auto reused = record("twice", {{"x-own", "1"}});
  {
    Producer producer(producer_options());
    ScopedTraceContext scope(context);
    producer.send(reused).get();
    producer.send(reused).get();
  }
  const auto records = read_back(2);
  ASSERT_EQ(records.size(), 2u);
  std::vector<std::string> spans;
  for (const auto& received : records) {
    EXPECT_EQ(last_header(received.headers, "x-own"), "1") << "the record's own headers go too";
    const auto continued = TraceContext::from_headers(received.headers, {});
    ASSERT_TRUE(continued);
    EXPECT_EQ(continued->trace_id, context.trace_id);
    spans.push_back(continued->span_id);
  }
  EXPECT_NE(spans[0], spans[1]) << "each send is a child span of its own";
}

TEST_F(ProducerTracePropagationTest, TheTraceHeadersCountTowardsTheSizeLimit) {
  auto options = producer_options();
  const auto fitting = record("exactly the limit");
  options.max_record_bytes = fitting.value->size();
  Producer producer(options);
  producer.send(fitting).get();  // outside a context it fits exactly
  ScopedTraceContext scope(TraceContext::new_root());
  try {
    producer.send(fitting).get();
    FAIL() << "a record grown past the limit by its trace headers was sent";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kRecordTooLarge) << error.what();
  }
}

TEST_F(ProducerTracePropagationTest, ARecordsExplicitTraceparentIsKept) {
  {
    Producer producer(producer_options());
    ScopedTraceContext scope(TraceContext::new_root());
    std::promise<Result<RecordMetadata>> outcome;
    producer.send(record("explicit", {{"traceparent", kSpecExample}}), [&](const Result<RecordMetadata>& result) { outcome.set_value(result); });
    ASSERT_TRUE(outcome.get_future().get());
  }
  const auto records = read_back(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(count_key(records[0].headers, "traceparent"), 1u);
  EXPECT_EQ(last_header(records[0].headers, "traceparent"), kSpecExample);
}

TEST_F(ProducerTracePropagationTest, ARecordSentOutsideAnyContextCarriesNoTrace) {
  {
    Producer producer(producer_options());
    producer.send(record("untraced")).get();
  }
  const auto records = read_back(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(count_key(records[0].headers, "traceparent"), 0u);
}

}  // namespace
}  // namespace whippet

namespace whippet {
namespace {

TEST(ScopedHeaderTraceContextTest, ParsesOnDemandAndNestsWithExplicitScopes) {
  const auto outer = TraceContext::new_root();
  const auto carried = TraceContext::new_root();
  Headers headers;
  carried.inject(headers);
  headers.push_back({"x-request-id", "r-7"});
  const std::vector<std::string> keys = {"x-request-id"};
  {
    ScopedTraceContext explicit_scope(outer);
    {
      ScopedHeaderTraceContext record_scope(headers, keys);
      const auto* current = current_trace_context();
      ASSERT_NE(current, nullptr);
      EXPECT_EQ(current->trace_id, carried.trace_id) << "the innermost scope wins";
      EXPECT_EQ(current, current_trace_context()) << "parsed once, then cached";
      ASSERT_EQ(current->context_headers.size(), 1u);
      EXPECT_EQ(current->context_headers[0].value, "r-7");
      {
        ScopedTraceContext inner(outer.child());
        EXPECT_EQ(current_trace_context()->trace_id, outer.trace_id);
      }
      EXPECT_EQ(current_trace_context()->trace_id, carried.trace_id);
    }
    EXPECT_EQ(current_trace_context()->trace_id, outer.trace_id) << "the outer scope is back";
  }
  EXPECT_EQ(current_trace_context(), nullptr);
  const Headers untraced = {{"key", "value"}};
  ScopedTraceContext explicit_scope(outer);
  ScopedHeaderTraceContext record_scope(untraced, keys);
  EXPECT_EQ(current_trace_context(), nullptr) << "a record without a trace hides the outer one";
}

}  // namespace
}  // namespace whippet
