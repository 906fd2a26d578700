// Hostile and unusual requests to the fan-out proxy over gRPC: each gets a
// precise status naming what was wrong, and the proxy goes on serving.

#include <gtest/gtest.h>

#include <cstdlib>
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fanout_fixture.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

using FanoutRequests = FanoutFixture;

// A normal subscriber still receives what is produced.
void expect_still_serving(ReceivedLog& log,
                          const std::function<void()>& produce) {
  produce();
  EXPECT_TRUE(log.wait_distinct(100, 30s)) << log.distinct();
}

TEST_F(FanoutRequests, BadSubscriptionsAreRefusedWithTheFieldNamed) {
  struct Case {
    std::string name;
    std::function<void(v1::SubscribeRequest&)> spoil;
    grpc::StatusCode expected;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"empty topic", [](auto& r) { r.set_topic(""); }, grpc::StatusCode::INVALID_ARGUMENT,
       "topic"},
      {"illegal topic", [](auto& r) { r.set_topic("a/b"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "topic \"a/b\""},
      {"topic of spaces", [](auto& r) { r.set_topic("or ders"); },
       grpc::StatusCode::INVALID_ARGUMENT, "topic"},
      {"topic ..", [](auto& r) { r.set_topic(".."); }, grpc::StatusCode::INVALID_ARGUMENT, "topic"},
      {"topic of 250 characters", [](auto& r) { r.set_topic(std::string(250, 't')); },
       grpc::StatusCode::INVALID_ARGUMENT, "topic"},
      {"empty subscriber", [](auto& r) { r.set_subscriber(""); },
       grpc::StatusCode::INVALID_ARGUMENT, "subscriber"},
      {"subscriber of 101 characters", [](auto& r) { r.set_subscriber(std::string(101, 's')); },
       grpc::StatusCode::INVALID_ARGUMENT, "subscriber"},
      {"subscriber with a space", [](auto& r) { r.set_subscriber("a b"); },
       grpc::StatusCode::INVALID_ARGUMENT, "subscriber"},
      {"subscriber with a slash", [](auto& r) { r.set_subscriber("x/y"); },
       grpc::StatusCode::INVALID_ARGUMENT, "subscriber"},
      {"subscriber with a zero byte",
       [](auto& r) { r.set_subscriber(std::string("ab\0cd", 5)); },
       grpc::StatusCode::INVALID_ARGUMENT, "subscriber"},
      {"non-ASCII subscriber", [](auto& r) { r.set_subscriber("caf\xc3\xa9"); },
       grpc::StatusCode::INVALID_ARGUMENT, "subscriber"},
      {"max_in_flight above the limit",
       [](auto& r) { r.mutable_flow()->set_max_in_flight(100001); },
       grpc::StatusCode::INVALID_ARGUMENT, "flow.max_in_flight"},
      {"huge max_in_flight", [](auto& r) { r.mutable_flow()->set_max_in_flight(0xffffffffu); },
       grpc::StatusCode::INVALID_ARGUMENT, "flow.max_in_flight"},
      {"ack deadline of 50 ms", [](auto& r) { r.mutable_flow()->set_ack_deadline_ms(50); },
       grpc::StatusCode::INVALID_ARGUMENT, "flow.ack_deadline_ms"},
      {"ack deadline over an hour",
       [](auto& r) { r.mutable_flow()->set_ack_deadline_ms(3600 * 1000 + 1); },
       grpc::StatusCode::INVALID_ARGUMENT, "flow.ack_deadline_ms"},
      {"filter header without a key",
       [](auto& r) { r.mutable_filter()->add_headers()->set_value("a"); },
       grpc::StatusCode::INVALID_ARGUMENT, "filter.headers"},
      {"unknown topic", [](auto& r) { r.set_topic("no-such-topic-anywhere"); },
       grpc::StatusCode::NOT_FOUND, "no-such-topic-anywhere"},
  };
  for (const auto& test : cases) {
    SCOPED_TRACE(test.name);
    auto bad = request("hostile");
    test.spoil(bad);
    const auto status = subscribe_status(bad);
    EXPECT_EQ(status.error_code(), test.expected) << status_text(status);
    EXPECT_NE(status.error_message().find(test.mentions), std::string::npos)
        << status_text(status);
  }
  // Nothing was registered, and an unknown topic is not read (nor created).
  const auto state = snapshot();
  EXPECT_TRUE(state["subscribers"].empty()) << state.dump();
  EXPECT_TRUE(state["topics"].empty()) << state.dump();
  EXPECT_THROW(
      [&] {
        AdminOptions options;
        options.cluster = cluster_options_;
        AdminClient(options).describe_topic("no-such-topic-anywhere");
      }(),
      Error);

  ReceivedLog log;
  auto client = subscribe(request("normal"), log);
  expect_still_serving(log, [&] { produce(100); });
}

TEST_F(FanoutRequests, LimitsAtTheirBoundsAreAccepted) {
  auto edge = request(std::string(100, 's'));
  edge.mutable_flow()->set_max_in_flight(100000);
  edge.mutable_flow()->set_ack_deadline_ms(100);
  edge.mutable_filter()->add_headers()->set_key("kind");  // present, any value
  auto stream = subscribe_raw(edge);
  EXPECT_TRUE(stream->wait_started(10s).has_value())
      << status_text(stream->wait_finished(0ms).value_or(grpc::Status::OK));
  const auto session = subscriber_snapshot(std::string(100, 's'));
  ASSERT_FALSE(session.is_null()) << snapshot().dump();
  EXPECT_EQ(session["max_in_flight"], 100000);
  EXPECT_NE(session["filter"], "all records");
}

TEST_F(FanoutRequests, AcknowledgingAnUnknownSessionIsNotFound) {
  v1::AcknowledgeResponse response;
  const auto status = acknowledge("no-such-session", {{0, {1, 2, 3}}}, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status_text(status);
  EXPECT_NE(status.error_message().find("no-such-session"), std::string::npos);

  const auto empty = acknowledge("", {}, response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::NOT_FOUND) << status_text(empty);
}

TEST_F(FanoutRequests, AcknowledgingOffsetsNeverPushedIsIgnored) {
  produce(20);
  auto stream = subscribe_raw(request("careful"));
  const auto session = stream->wait_started(10s);
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE(stream->wait_deliveries(20, 30s)) << stream->deliveries().size();
  const auto delivered = stream->deliveries();

  v1::AcknowledgeResponse response;
  // Offsets past the end, negative ones, a partition that does not exist.
  auto status = acknowledge(*session, {{0, {1000000, -1}}, {99, {0}}, {-5, {0}}}, response);
  ASSERT_TRUE(status.ok()) << status_text(status);
  EXPECT_EQ(response.accepted(), 0u);
  EXPECT_EQ(response.ignored(), 4u);

  // One real offset twice in one request, then again: accepted once.
  const auto& first = delivered.front();
  response.Clear();
  status = acknowledge(*session, {{first.partition, {first.offset, first.offset}}}, response);
  ASSERT_TRUE(status.ok()) << status_text(status);
  EXPECT_EQ(response.accepted(), 1u);
  EXPECT_EQ(response.ignored(), 1u);
  response.Clear();
  status = acknowledge(*session, {{first.partition, {first.offset}}}, response);
  EXPECT_EQ(response.accepted(), 0u);
  EXPECT_EQ(response.ignored(), 1u);

  // The rest are accepted; nothing bogus counted as acknowledged.
  EXPECT_EQ(acknowledge(*session, delivered), 19u);
  const auto state = subscriber_snapshot("careful");
  EXPECT_EQ(state["acknowledged"], 20) << state.dump();
  EXPECT_EQ(state["in_flight"], 0) << state.dump();
}

TEST_F(FanoutRequests, AcknowledgingOffsetRanges) {
  produce(40);
  auto stream = subscribe_raw(request("ranged"));
  const auto session = stream->wait_started(10s);
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE(stream->wait_deliveries(40, 30s)) << stream->deliveries().size();
  std::map<int32_t, std::vector<int64_t>> by_partition;
  for (const auto& delivery : stream->deliveries()) {
    by_partition[delivery.partition].push_back(delivery.offset);
  }
  const auto send = [&](const std::function<void(v1::AcknowledgeRequest&)>& fill,
                        v1::AcknowledgeResponse& response) {
    v1::AcknowledgeRequest request;
    request.set_session_id(*session);
    fill(request);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    return stub_->Acknowledge(&context, request, &response);
  };
  const auto& [partition, offsets] = *by_partition.begin();
  const auto low = *std::min_element(offsets.begin(), offsets.end());
  const auto high = *std::max_element(offsets.begin(), offsets.end());

  // A bad range refuses the whole request: nothing in it is acknowledged.
  v1::AcknowledgeResponse response;
  auto status = send(
      [&](auto& request) {
        auto* entry = request.add_acknowledged();
        entry->set_partition(partition);
        entry->add_offsets(low);
        auto* backwards = entry->add_ranges();
        backwards->set_first(high);
        backwards->set_last(low - 1);
      },
      response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  EXPECT_NE(status.error_message().find("ranges"), std::string::npos) << status_text(status);
  status = send(
      [&](auto& request) {
        auto* entry = request.add_acknowledged();
        entry->set_partition(partition);
        auto* huge = entry->add_ranges();
        huge->set_first(0);
        huge->set_last(std::numeric_limits<int64_t>::max());
      },
      response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  EXPECT_EQ(subscriber_snapshot("ranged")["acknowledged"], 0);

  // One range over the partition's records and a few beyond them.
  response.Clear();
  status = send(
      [&](auto& request) {
        auto* entry = request.add_acknowledged();
        entry->set_partition(partition);
        auto* range = entry->add_ranges();
        range->set_first(low);
        range->set_last(high + 5);
      },
      response);
  ASSERT_TRUE(status.ok()) << status_text(status);
  EXPECT_EQ(response.accepted(), offsets.size());
  EXPECT_EQ(response.ignored(), static_cast<std::uint32_t>(high + 5 - low + 1) - offsets.size());

  // Again: all ignored; the rest of the records by single offsets.
  response.Clear();
  status = send(
      [&](auto& request) {
        auto* entry = request.add_acknowledged();
        entry->set_partition(partition);
        auto* range = entry->add_ranges();
        range->set_first(low);
        range->set_last(high);
      },
      response);
  EXPECT_EQ(response.accepted(), 0u);
  EXPECT_EQ(response.ignored(), static_cast<std::uint32_t>(high - low + 1));
  EXPECT_EQ(acknowledge(*session, stream->deliveries()), 40u - offsets.size());
  const auto state = subscriber_snapshot("ranged");
  EXPECT_EQ(state["acknowledged"], 40) << state.dump();
  EXPECT_EQ(state["in_flight"], 0) << state.dump();
}

class FanoutTwoSubscribers : public FanoutFixture {
 protected:
  fanout::FanoutOptions proxy_options() const override {
    auto options = default_options();
    options.max_subscribers = 2;
    return options;
  }
};

TEST_F(FanoutTwoSubscribers, MoreThanMaxSubscribersIsResourceExhausted) {
  auto first = subscribe_raw(request("first"));
  auto second = subscribe_raw(request("second"));
  ASSERT_TRUE(first->wait_started(10s).has_value());
  ASSERT_TRUE(second->wait_started(10s).has_value());

  const auto status = subscribe_status(request("third"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status_text(status);
  EXPECT_NE(status.error_message().find("2 subscriber streams"), std::string::npos)
      << status_text(status);

  // A subscriber already connected may still take over its own stream, and
  // it is served.
  auto again = subscribe_raw(request("second"));
  EXPECT_TRUE(again->wait_started(20s).has_value())
      << status_text(again->wait_finished(0ms).value_or(grpc::Status::OK));
  ReceivedLog log;
  auto client = subscribe(request("first"), log);
  expect_still_serving(log, [&] { produce(100); });
  EXPECT_EQ(snapshot()["subscribers"].size(), 2u);
}

TEST_F(FanoutTwoSubscribers, ASubscriberThatWentAwayFreesItsPlace) {
  // Regression: a session noticed that its client went away only when a
  // write failed, so an idle stream whose client disconnected stayed
  // registered (counting against max_subscribers) until the topic got a
  // record.
  auto first = subscribe_raw(request("first"));
  auto second = subscribe_raw(request("second"));
  ASSERT_TRUE(first->wait_started(10s).has_value());
  ASSERT_TRUE(second->wait_started(10s).has_value());
  // Positioned: the assignment was written (a write would notice the
  // cancellation); from now on the streams are idle.
  ASSERT_TRUE(wait_positioned("first"));
  ASSERT_TRUE(wait_positioned("second"));
  first->cancel();
  second->cancel();
  ASSERT_TRUE(first->wait_finished(5s).has_value());
  ASSERT_TRUE(second->wait_finished(5s).has_value());
  EXPECT_TRUE(eventually([&] { return snapshot()["subscribers"].empty(); }, 5s))
      << snapshot().dump();
  auto third = subscribe_raw(request("third"));
  EXPECT_TRUE(third->wait_started(10s).has_value())
      << status_text(third->wait_finished(0ms).value_or(grpc::Status::OK));
}

TEST_F(FanoutRequests, ASecondStreamOfASubscriberEndsTheFirstWithAborted) {
  produce(10);
  auto first = subscribe_raw(request("twice"));
  ASSERT_TRUE(first->wait_started(10s).has_value());
  ASSERT_TRUE(first->wait_deliveries(10, 30s));

  auto second = subscribe_raw(request("twice"));
  ASSERT_TRUE(second->wait_started(20s).has_value())
      << status_text(second->wait_finished(0ms).value_or(grpc::Status::OK));
  const auto ended = first->wait_finished(10s);
  ASSERT_TRUE(ended.has_value()) << "the older stream was not ended";
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::ABORTED) << status_text(*ended);
  EXPECT_EQ(snapshot()["subscribers"].size(), 1u);

  // The older session is gone: acknowledging its records is NOT_FOUND...
  v1::AcknowledgeResponse response;
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (const auto& delivery : first->deliveries()) {
    offsets[delivery.partition].push_back(delivery.offset);
  }
  const auto status = acknowledge(*first->wait_started(0ms), offsets, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status_text(status);
  // ...and the newer stream gets every one of them again.
  EXPECT_TRUE(second->wait_deliveries(10, 30s)) << second->deliveries().size();
  std::set<std::pair<int32_t, int64_t>> again;
  for (const auto& delivery : second->deliveries()) again.insert({delivery.partition, delivery.offset});
  for (const auto& delivery : first->deliveries()) {
    EXPECT_TRUE(again.contains({delivery.partition, delivery.offset}))
        << delivery.partition << "@" << delivery.offset;
  }
}

TEST_F(FanoutRequests, TheReplacedStreamSeesAbortedNotCancelled) {
  // Regression: the older stream was stopped and at once cancelled through
  // its ServerContext, so its client saw CANCELLED instead of the ABORTED
  // ("replaced by a newer stream") that fanout.proto promises.
  auto first = subscribe_raw(request("twice"));
  ASSERT_TRUE(first->wait_started(10s).has_value());
  auto second = subscribe_raw(request("twice"));
  ASSERT_TRUE(second->wait_started(20s).has_value());
  const auto ended = first->wait_finished(10s);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::ABORTED) << status_text(*ended);
  EXPECT_NE(ended->error_message().find("replaced"), std::string::npos) << status_text(*ended);
}

TEST_F(FanoutRequests, ShutdownEndsStreamsWithUnavailableAndRefusesNewOnes) {
  auto stream = subscribe_raw(request("leaving"));
  ASSERT_TRUE(stream->wait_started(10s).has_value());
  std::thread shutdown([&] { proxy_->shutdown(); });
  const auto ended = stream->wait_finished(15s);
  shutdown.join();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::UNAVAILABLE) << status_text(*ended);
  const auto refused = subscribe_status(request("late"));
  EXPECT_NE(refused.error_code(), grpc::StatusCode::OK) << status_text(refused);
}

TEST_F(FanoutRequests, TheProxyKeepsServingAfterHostileRequests) {
  ReceivedLog log;
  auto client = subscribe(request("steady"), log);
  ASSERT_TRUE(wait_positioned("steady"));
  for (const auto& subscriber : {std::string(""), std::string(101, 'x'), std::string("a b")}) {
    const auto status = subscribe_status(request(subscriber));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  }
  v1::AcknowledgeResponse response;
  EXPECT_EQ(acknowledge("bogus", {{0, {0}}}, response).error_code(), grpc::StatusCode::NOT_FOUND);
  {
    auto taker = subscribe_raw(request("other"));
    ASSERT_TRUE(taker->wait_started(10s).has_value());
    auto again = subscribe_raw(request("other"));
    ASSERT_TRUE(again->wait_started(20s).has_value());
  }
  produce(100);
  EXPECT_TRUE(log.wait_distinct(100, 30s)) << log.distinct();
  EXPECT_EQ(client->streams_opened(), 1u) << "the normal subscriber's stream was disturbed";
}

}  // namespace
}  // namespace whippet
