// The sidecar's Consume stream on the embedded cluster: explicit outcomes,
// commits of the answered prefix, redelivery after a client goes away.

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "sidecar_fixture.h"
#include "support/inbox.h"

namespace whippet {
namespace {

using SidecarConsume = SidecarFixture;

TEST_F(SidecarConsume, BytesKeysAndHeadersSurviveTheRoundTrip) {
  v1::ProduceRequest request;
  request.set_topic(topic_);
  request.set_key(std::string("k\0ey", 4));
  request.set_value(std::string("\0value\0with zeros\0", 18));
  auto* first = request.add_headers();
  first->set_key("h");
  first->set_value(std::string("one\0", 4));
  request.add_headers()->set_key("h");  // a null value, under a repeated key
  auto* third = request.add_headers();
  third->set_key("h");
  third->set_value("three");
  auto* not_utf8 = request.add_headers();  // Kafka header keys are bytes
  not_utf8->set_key(std::string("\xff\xfe-raw", 6));
  not_utf8->set_value("four");
  request.set_partition(2);
  request.set_timestamp_ms(1700000000123);
  v1::ProduceResult produced;
  ASSERT_TRUE(produce(request, &produced).ok());
  ASSERT_TRUE(produced.has_position());
  EXPECT_EQ(produced.position().partition(), 2);

  auto stream = open_stream();
  ASSERT_TRUE(stream->subscribe(subscription("round-trip")));
  const auto deliveries = stream->read(1);
  ASSERT_EQ(deliveries.size(), 1u);
  const auto& record = deliveries[0].record();
  EXPECT_EQ(record.key(), request.key());
  EXPECT_EQ(record.value(), request.value());
  EXPECT_EQ(record.partition(), 2);
  EXPECT_EQ(record.offset(), produced.position().offset());
  EXPECT_EQ(record.timestamp_ms(), 1700000000123);
  ASSERT_EQ(record.headers_size(), 4);
  EXPECT_EQ(record.headers(0).value(), std::string("one\0", 4));
  EXPECT_FALSE(record.headers(1).has_value());
  EXPECT_EQ(record.headers(2).value(), "three");
  EXPECT_EQ(record.headers(3).key(), std::string("\xff\xfe-raw", 6));
  EXPECT_TRUE(stream->answer(deliveries, v1::ACK));
}

TEST_F(SidecarConsume, CommitsOnlyWhatWasAnsweredAndRedeliversTheRestToTheNextClient) {
  produce_numbered_records(40);
  std::set<std::string> unanswered;
  {
    auto stream = open_stream();
    auto subscription = this->subscription("hand-over");
    subscription.mutable_key_ordered()->set_parallelism(16);
    subscription.set_max_in_flight(8);
    ASSERT_TRUE(stream->subscribe(subscription));
    // Answer half of what arrives, then hold what comes next unanswered.
    auto deliveries = stream->read(8);
    ASSERT_EQ(deliveries.size(), 8u);
    ASSERT_TRUE(stream->answer({deliveries.begin(), deliveries.begin() + 4}, v1::ACK));
    auto held = stream->read(4);  // pushed once the answers freed slots
    ASSERT_EQ(held.size(), 4u);
    held.insert(held.end(), deliveries.begin() + 4, deliveries.end());
    for (const auto& delivery : held) unanswered.insert(delivery.record().value());
    stream->cancel();  // the client goes away without answering them
  }
  auto next = open_stream();
  ASSERT_TRUE(next->subscribe(subscription("hand-over")));
  std::set<std::string> redelivered;
  while (!std::includes(redelivered.begin(), redelivered.end(), unanswered.begin(),
                        unanswered.end())) {
    auto deliveries = next->read(1);
    ASSERT_FALSE(deliveries.empty()) << "the stream ended before every record came back";
    for (const auto& delivery : deliveries) redelivered.insert(delivery.record().value());
    ASSERT_TRUE(next->answer(deliveries, v1::ACK));
  }
}

TEST_F(SidecarConsume, AMissedDeadlineCountsAsAFailureForTheRetryPolicy) {
  produce_numbered_records(1);
  auto stream = open_stream();
  auto subscription = this->subscription("deadline");
  subscription.set_ack_deadline_ms(300);
  subscription.mutable_retry()->mutable_default_policy()->mutable_blocking()->mutable_fixed()
      ->add_delays_ms(10);
  ASSERT_TRUE(stream->subscribe(subscription));
  const auto first = stream->read(1);
  ASSERT_EQ(first.size(), 1u);
  // No answer: after 300 ms the blocking policy retries it as a new delivery.
  const auto second = stream->read(1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].record().offset(), first[0].record().offset());
  EXPECT_NE(second[0].delivery_id(), first[0].delivery_id());
  // An answer to the expired delivery is stale and ignored, not an error.
  ASSERT_TRUE(stream->answer(first, v1::ACK));
  ASSERT_TRUE(stream->answer(second, v1::ACK));

  grpc::ClientContext context;
  v1::SnapshotResponse snapshot;
  ASSERT_TRUE(consumer_->Snapshot(&context, {}, &snapshot).ok());
  const auto json = nlohmann::json::parse(snapshot.json());
  ASSERT_EQ(json["subscriptions"].size(), 1u);
  const auto& outcomes = json["subscriptions"][0]["outcomes"];
  EXPECT_EQ(outcomes["deadline_missed"], 1);
  EXPECT_EQ(outcomes["delivered"], 2);
  EXPECT_EQ(json["subscriptions"][0]["consumer"]["group"], "deadline");

  // The SDK's metrics for the consumer the sidecar runs, the missed deadline
  // under the error type the sidecar gives it.
  httplib::Client metrics("127.0.0.1", sidecar_->metrics_port());
  const auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped) << httplib::to_string(scraped.error());
  EXPECT_NE(scraped->body.find("whippet_records_failed_total{topic=\"" + topic_ +
                               "\",group=\"deadline\",handler=\"deadline\","
                               "error_type=\"AckDeadlineExceeded\"} 1"),
            std::string::npos)
      << scraped->body;
  EXPECT_NE(scraped->body.find("whippet_consumer_in_flight_records{topic=\"" + topic_ +
                               "\",group=\"deadline\""),
            std::string::npos);
}

TEST_F(SidecarConsume, NonRetriableGoesStraightToTheDeadLetterTopicWithTheClientsErrorType) {
  produce_numbered_records(1);
  auto stream = open_stream();
  auto subscription = this->subscription("poison");
  subscription.mutable_retry()->mutable_default_policy()->mutable_retry_topics()
      ->add_backoffs_ms(10);
  const auto subscribed = stream->subscribe(subscription);
  ASSERT_TRUE(subscribed);
  ASSERT_EQ(subscribed->topics_size(), 2);
  EXPECT_EQ(subscribed->topics(1), RetryTopicNamer::retry_topic(topic_, "poison", 1));
  auto deliveries = stream->read(1);
  ASSERT_EQ(deliveries.size(), 1u);
  v1::ConsumeRequest request;
  auto* outcome = request.mutable_outcomes()->add_outcomes();
  outcome->set_delivery_id(deliveries[0].delivery_id());
  outcome->set_kind(v1::NON_RETRIABLE);
  outcome->set_error_message("cannot parse order");
  outcome->set_error_type("ValueError");
  ASSERT_TRUE(stream->send(request));

  // The dead-letter copy, read with the SDK.
  testing::Inbox dead;
  auto options = this->options("dead-reader");
  options.topics = {RetryTopicNamer::dead_letter_topic(topic_, "poison")};
  Consumer reader(options, [&](const Record& record) { dead.add(record); });
  const auto copies = dead.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(copies.size(), 1u);
  const auto* copy = &copies[0];
  EXPECT_EQ(copy->value, "0");
  EXPECT_EQ(last_header(copy->headers, retry_headers::kErrorType), "ValueError");
  EXPECT_EQ(last_header(copy->headers, retry_headers::kErrorMessage), "cannot parse order");
  EXPECT_EQ(last_header(copy->headers, retry_headers::kOriginalTopic), topic_);
}

TEST_F(SidecarConsume, AtMostMaxInFlightRecordsWaitForAnswers) {
  produce_numbered_records(30);
  auto stream = open_stream();
  auto subscription = this->subscription("bounded");
  subscription.mutable_key_ordered()->set_parallelism(16);
  subscription.set_max_in_flight(5);
  ASSERT_TRUE(stream->subscribe(subscription));
  const auto first = stream->read(5);
  ASSERT_EQ(first.size(), 5u);
  // Nothing more arrives until something is answered.
  grpc::ClientContext context;
  v1::SnapshotResponse snapshot;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(consumer_->Snapshot(&context, {}, &snapshot).ok());
  const auto outcomes = nlohmann::json::parse(snapshot.json())["subscriptions"][0]["outcomes"];
  EXPECT_EQ(outcomes["delivered"], 5);
  EXPECT_EQ(outcomes["in_flight"], 5);
  ASSERT_TRUE(stream->answer(first, v1::ACK));
  EXPECT_EQ(stream->read(5).size(), 5u);
}

TEST_F(SidecarConsume, GracefulShutdownWaitsForAnswersAndCommitsThem) {
  produce_numbered_records(12);
  auto stream = open_stream();
  auto subscription = this->subscription("drained");
  subscription.mutable_key_ordered()->set_parallelism(16);
  ASSERT_TRUE(stream->subscribe(subscription));
  const auto deliveries = stream->read(12);
  ASSERT_EQ(deliveries.size(), 12u);

  std::thread stopper([&] { sidecar_->shutdown(); });
  // Health turns NOT_SERVING as the drain begins; answer only then.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (serving(channel_) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(stream->answer(deliveries, v1::ACK));
  stopper.join();

  std::map<int32_t, int64_t> ends;
  for (const auto& delivery : deliveries) {
    auto& end = ends[delivery.record().partition()];
    end = std::max(end, delivery.record().offset() + 1);
  }
  const auto committed = this->committed("drained");
  for (const auto& [partition, end] : ends) {
    EXPECT_EQ(committed.at(partition), end) << "partition " << partition;
  }
}

}  // namespace
}  // namespace whippet
