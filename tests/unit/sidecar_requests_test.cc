// Bad requests to the sidecar: each gets a precise status and message, and
// the sidecar goes on serving.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "sidecar_fixture.h"
#include "support/inbox.h"

namespace whippet {
namespace {

using SidecarRequests = SidecarFixture;

std::string status_text(const grpc::Status& status) {
  return std::to_string(status.error_code()) + ": " + status.error_message();
}

TEST_F(SidecarRequests, OutcomesBeforeASubscriptionAreAFailedPrecondition) {
  auto stream = open_stream();
  v1::ConsumeRequest request;
  request.mutable_outcomes()->add_outcomes()->set_delivery_id(1);
  ASSERT_TRUE(stream->send(request));
  const auto status = stream->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status_text(status);
  EXPECT_NE(status.error_message().find("first message"), std::string::npos);
}

TEST_F(SidecarRequests, ASecondSubscriptionOnOneStreamAlreadyExists) {
  auto stream = open_stream();
  ASSERT_TRUE(stream->subscribe(subscription("twice")));
  v1::ConsumeRequest again;
  *again.mutable_subscribe() = subscription("twice");
  stream->send(again);
  const auto status = stream->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status_text(status);
}

TEST_F(SidecarRequests, AnOutcomeForADeliveryNeverIssuedIsAnInvalidArgument) {
  auto stream = open_stream();
  ASSERT_TRUE(stream->subscribe(subscription("made-up")));
  v1::ConsumeRequest request;
  request.mutable_outcomes()->add_outcomes()->set_delivery_id(424242);
  stream->send(request);
  const auto status = stream->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  EXPECT_NE(status.error_message().find("424242"), std::string::npos);
}

TEST_F(SidecarRequests, BadSubscriptionsAreRefusedWithTheFieldNamed) {
  struct Case {
    std::string name;
    std::function<void(v1::Subscription&)> spoil;
    grpc::StatusCode expected;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"unknown topic", [](auto& s) { s.set_topics(0, "no-such-topic"); },
       grpc::StatusCode::NOT_FOUND, "no-such-topic"},
      {"empty group", [](auto& s) { s.set_group(""); }, grpc::StatusCode::INVALID_ARGUMENT,
       "group"},
      {"illegal topic name", [](auto& s) { s.set_topics(0, "a/b"); },
       grpc::StatusCode::INVALID_ARGUMENT, "legal topic name"},
      {"retry topics without steps",
       [](auto& s) { s.mutable_retry()->mutable_default_policy()->mutable_retry_topics(); },
       grpc::StatusCode::INVALID_ARGUMENT, "retry"},
      {"blocking without back-off",
       [](auto& s) { s.mutable_retry()->mutable_default_policy()->mutable_blocking(); },
       grpc::StatusCode::INVALID_ARGUMENT, "back-off"},
      {"policy for a topic not subscribed",
       [](auto& s) { (*s.mutable_retry()->mutable_per_topic())["elsewhere"].set_none(true); },
       grpc::StatusCode::INVALID_ARGUMENT, "elsewhere"},
      {"absurd parallelism", [](auto& s) { s.mutable_key_ordered()->set_parallelism(1u << 30); },
       grpc::StatusCode::INVALID_ARGUMENT, "parallelism"},
  };
  for (const auto& test : cases) {
    auto stream = open_stream();
    auto subscription = this->subscription("bad");
    test.spoil(subscription);
    EXPECT_FALSE(stream->subscribe(subscription)) << test.name;
    const auto status = stream->finish();
    EXPECT_EQ(status.error_code(), test.expected) << test.name << ": " << status_text(status);
    EXPECT_NE(status.error_message().find(test.mentions), std::string::npos)
        << test.name << ": " << status_text(status);
  }
}

TEST_F(SidecarRequests, SubscriptionsBeyondTheLimitAreRefused) {
  sidecar_.reset();
  start_sidecar(/*max_subscriptions=*/1);
  auto first = open_stream();
  ASSERT_TRUE(first->subscribe(subscription("limited")));
  auto second = open_stream();
  EXPECT_FALSE(second->subscribe(subscription("limited")));
  const auto status = second->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  EXPECT_NE(status.error_message().find("limit"), std::string::npos) << status_text(status);
}

TEST_F(SidecarRequests, HugeErrorTextsAreCutToSizeOnTheDeadLetterCopy) {
  produce_numbered_records(1);
  auto stream = open_stream();
  auto subscription = this->subscription("loud");
  subscription.mutable_retry()->mutable_default_policy()->mutable_retry_topics()
      ->add_backoffs_ms(10);
  ASSERT_TRUE(stream->subscribe(subscription));
  const auto deliveries = stream->read(1);
  ASSERT_EQ(deliveries.size(), 1u);
  v1::ConsumeRequest request;
  auto* outcome = request.mutable_outcomes()->add_outcomes();
  outcome->set_delivery_id(deliveries[0].delivery_id());
  outcome->set_kind(v1::NON_RETRIABLE);
  outcome->set_error_message(std::string(1'500'000, 'm'));  // over the record limit alone
  outcome->set_error_type(std::string(100'000, 't'));
  ASSERT_TRUE(stream->send(request));

  testing::Inbox dead;
  auto options = this->options("loud-reader");
  options.topics = {RetryTopicNamer::dead_letter_topic(topic_, "loud")};
  Consumer reader(options, [&](const Record& record) { dead.add(record); });
  const auto copies = dead.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].value, "0");
  EXPECT_LE(last_header(copies[0].headers, retry_headers::kErrorMessage)->size(), 4000u);
  EXPECT_LE(last_header(copies[0].headers, retry_headers::kErrorType)->size(), 200u);
}

TEST_F(SidecarRequests, BadRecordsAreRefusedAndTheStreamGoesOn) {
  v1::ProduceResult result;
  v1::ProduceRequest no_topic;
  auto status = produce(no_topic, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);

  auto negative = numbered(1);
  negative.set_partition(-3);
  status = produce(negative, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);

  // Over the producer's 1,000,000-byte limit but within gRPC's.
  auto too_large = numbered(2);
  too_large.set_value(std::string(1'200'000, 'x'));
  status = produce(too_large, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  EXPECT_NE(status.error_message().find("RECORD_TOO_LARGE"), std::string::npos);

  // Over gRPC's limit: refused before it is read.
  auto huge = numbered(3);
  huge.set_value(std::string(3 << 20, 'x'));
  status = produce(huge, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status_text(status);

  // In a stream, a bad record fails alone.
  grpc::ClientContext context;
  auto stream = producer_->ProduceStream(&context);
  v1::ProduceBatch first;
  *first.add_records() = numbered(10);
  *first.add_records() = no_topic;
  v1::ProduceBatch second;
  *second.add_records() = numbered(11);
  ASSERT_TRUE(stream->Write(first));
  ASSERT_TRUE(stream->Write(second));
  stream->WritesDone();
  std::map<uint64_t, v1::ProduceResult> results;
  v1::ProduceStreamResponse response;
  while (stream->Read(&response)) {
    for (const auto& answer : response.results()) results[answer.index()] = answer;
  }
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].has_position());
  EXPECT_EQ(results[1].error().code(), v1::INVALID_ARGUMENT);
  EXPECT_TRUE(results[2].has_position());
}

TEST_F(SidecarRequests, GarbageBytesGetAnErrorStatusAndTheSidecarKeepsServing) {
  const auto [status, answer] = call_with_bytes(channel_, "/whippet.v1.ProducerService/Produce",
                                                "\xff\xff\xff\xff\x0f not a protobuf");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status_text(status);

  v1::ProduceResult result;
  EXPECT_TRUE(produce(numbered(1), &result).ok());
}

TEST_F(SidecarRequests, AProduceStreamCutMidwayLeavesTheSidecarServing) {
  {
    grpc::ClientContext context;
    auto stream = producer_->ProduceStream(&context);
    for (int i = 0; i < 200; ++i) {
      v1::ProduceBatch batch;
      *batch.add_records() = numbered(i);
      ASSERT_TRUE(stream->Write(batch));
    }
    context.TryCancel();
    EXPECT_FALSE(stream->Finish().ok());
  }
  v1::ProduceResult result;
  ASSERT_TRUE(produce(numbered(1000), &result).ok());
}

TEST_F(SidecarRequests, AProduceStreamAnswersEveryRecordWithItsIndex) {
  constexpr int kRecords = 30000;  // more results than one message or the back-pressure bound
  grpc::ClientContext context;
  auto stream = producer_->ProduceStream(&context);
  std::thread writer([&] {
    for (int i = 0; i < kRecords;) {
      v1::ProduceBatch batch;
      for (int end = std::min(kRecords, i + 700); i < end; ++i) {
        auto* request = batch.add_records();
        *request = numbered(i);
        request->set_partition(i % kPartitions);
      }
      if (!stream->Write(batch)) return;
    }
    stream->WritesDone();
  });
  std::set<uint64_t> indexes;
  v1::ProduceStreamResponse response;
  while (stream->Read(&response)) {
    for (const auto& result : response.results()) {
      ASSERT_TRUE(result.has_position()) << result.error().message();
      EXPECT_EQ(result.position().partition(), static_cast<int32_t>(result.index() % kPartitions));
      indexes.insert(result.index());
    }
  }
  writer.join();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(indexes.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(*indexes.rbegin(), static_cast<uint64_t>(kRecords - 1));
}

TEST_F(SidecarRequests, AdminRequestsAreValidated) {
  grpc::ClientContext create_context;
  v1::CreateTopicsRequest create;
  auto* spec = create.add_topics();
  spec->set_name("fine");
  spec->set_partitions(0);
  spec->set_replication_factor(1);
  v1::CreateTopicsResponse created;
  auto status = admin_->CreateTopics(&create_context, create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
  EXPECT_NE(status.error_message().find("partitions"), std::string::npos);

  grpc::ClientContext describe_context;
  v1::DescribeTopicsRequest describe;
  describe.add_names(topic_);
  v1::DescribeTopicsResponse described;
  ASSERT_TRUE(admin_->DescribeTopics(&describe_context, describe, &described).ok());
  ASSERT_EQ(described.topics_size(), 1);
  EXPECT_EQ(described.topics(0).partitions_size(), kPartitions);

  grpc::ClientContext lag_context;
  v1::GroupLagResponse lag;
  status = admin_->GroupLag(&lag_context, v1::GroupLagRequest{}, &lag);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status_text(status);
}

TEST_F(SidecarRequests, HealthIsServingUntilShutdown) {
  const auto [status, answer] = call_with_bytes(channel_, "/grpc.health.v1.Health/Check", "");
  ASSERT_TRUE(status.ok()) << status_text(status);
  EXPECT_EQ(answer, kServing);
  sidecar_->shutdown();
  const auto [after, after_answer] = call_with_bytes(channel_, "/grpc.health.v1.Health/Check", "");
  EXPECT_FALSE(after.ok() && after_answer == kServing);
}

}  // namespace
}  // namespace whippet
