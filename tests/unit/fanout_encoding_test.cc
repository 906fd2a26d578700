// The proxy pushes deliveries from records encoded once: the bytes it
// writes must parse as the SubscribeEvent built field by field.

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "deliveries_message.h"
#include "subscribe_event_reader.h"
#include "record_messages.h"

namespace whippet::fanout {
namespace {

Record sample_record(int64_t offset, std::size_t value_bytes) {
  Record record;
  record.topic = "orders.eu";
  record.partition = 3;
  record.offset = offset;
  record.timestamp = Timestamp(std::chrono::milliseconds(1'700'000'000'123));
  record.key = "key-" + std::to_string(offset);
  record.value = std::string(value_bytes, 'v');
  record.headers = {{"trace", "abc"}, {"null", std::nullopt}, {std::string("\xff\x00", 2), ""}};
  return record;
}

v1::SubscribeEvent built_field_by_field(const std::vector<std::pair<Record, std::uint32_t>>& batch) {
  v1::SubscribeEvent event;
  auto* deliveries = event.mutable_deliveries();
  for (const auto& [record, attempt] : batch) {
    auto* delivery = deliveries->add_deliveries();
    sidecar::fill_consumed_record(record, delivery->mutable_record());
    delivery->set_attempt(attempt);
  }
  return event;
}

TEST(FanoutEncoding, DeliveriesParseAsTheEventBuiltFieldByField) {
  Record tombstone = sample_record(7, 0);
  tombstone.value.reset();
  tombstone.key.reset();
  // Values of 0, 100 and 300 bytes: lengths of one and two varint bytes.
  const std::vector<std::pair<Record, std::uint32_t>> batch = {
      {sample_record(5, 100), 1}, {tombstone, 2}, {sample_record(9, 300), 200}};
  DeliveriesMessage encoded;
  for (const auto& [record, attempt] : batch) encoded.add(FanoutRecord(record), attempt);

  v1::SubscribeEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded.to_string()));
  EXPECT_TRUE(parsed.has_deliveries());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, built_field_by_field(batch)))
      << parsed.DebugString();
  EXPECT_EQ(encoded.to_string().size(), built_field_by_field(batch).ByteSizeLong());
}

TEST(FanoutEncoding, ClearedDeliveriesStartAfresh) {
  DeliveriesMessage encoded;
  encoded.add(FanoutRecord(sample_record(1, 10)), 1);
  encoded.clear();
  encoded.add(FanoutRecord(sample_record(2, 10)), 1);
  v1::SubscribeEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded.to_string()));
  ASSERT_EQ(parsed.deliveries().deliveries_size(), 1);
  EXPECT_EQ(parsed.deliveries().deliveries(0).record().offset(), 2);
}

TEST(FanoutEncoding, AFanoutRecordKeepsWhatTheProxyLooksAt) {
  const auto original = sample_record(1, 100);
  const FanoutRecord record(original);
  EXPECT_EQ(record.payload, payload_bytes(original));
  EXPECT_EQ(record.payload, 5u + 100u + 5u + 3u + 4u + 2u);
  EXPECT_EQ(record.partition, 3);
  EXPECT_EQ(record.offset, 1);
  EXPECT_EQ(record.key, original.key);
  EXPECT_EQ(record.headers, original.headers);
  // Held in memory: the encoding (value and topic inside) plus the key and
  // headers kept beside it, what a buffer's byte bound counts.
  EXPECT_EQ(record.memory, record.first_delivery().size() + 5u + 5u + 3u + 4u + 2u);
  v1::ConsumedRecord parsed;
  ASSERT_TRUE(parsed.ParseFromString(std::string(record.encoded())));
  EXPECT_EQ(parsed.offset(), 1);
  EXPECT_GT(record.memory, record.payload) << "the topic and framing count too";
}

// What the client reads must be what protobuf parses from the same bytes.
void expect_read_as_protobuf_parses(const std::string& bytes, SubscribeEventRead& event) {
  v1::SubscribeEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  parsed.DiscardUnknownFields();  // kept by protobuf, skipped by the client
  ASSERT_TRUE(read_subscribe_event(bytes, event));
  switch (parsed.event_case()) {
    case v1::SubscribeEvent::kStarted:
      ASSERT_EQ(event.kind, SubscribeEventRead::Kind::kStarted);
      EXPECT_EQ(event.session_id, parsed.started().session_id());
      EXPECT_EQ(event.assignment, std::vector<int32_t>(parsed.started().assignment().partitions().begin(),
                                                       parsed.started().assignment().partitions().end()));
      return;
    case v1::SubscribeEvent::kAssignment:
      ASSERT_EQ(event.kind, SubscribeEventRead::Kind::kAssignment);
      EXPECT_EQ(event.assignment, std::vector<int32_t>(parsed.assignment().partitions().begin(),
                                                       parsed.assignment().partitions().end()));
      return;
    case v1::SubscribeEvent::kDeliveries:
      break;
    case v1::SubscribeEvent::EVENT_NOT_SET:
      EXPECT_EQ(event.kind, SubscribeEventRead::Kind::kNone);
      return;
  }
  ASSERT_EQ(event.kind, SubscribeEventRead::Kind::kDeliveries);
  const auto& deliveries = parsed.deliveries().deliveries();
  ASSERT_EQ(event.records.size(), static_cast<std::size_t>(deliveries.size()));
  for (int i = 0; i < deliveries.size(); ++i) {
    const auto& read = event.records[static_cast<std::size_t>(i)];
    EXPECT_EQ(read.attempt, deliveries[i].attempt());
    v1::ConsumedRecord again;
    sidecar::fill_consumed_record(read.record, &again);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again, deliveries[i].record()))
        << again.DebugString() << " read, protobuf parsed " << deliveries[i].record().DebugString();
  }
}

TEST(FanoutEncoding, TheClientReadsWhatProtobufParses) {
  Record tombstone = sample_record(7, 0);
  tombstone.value.reset();
  tombstone.headers.clear();
  Record empty_value = sample_record(8, 0);
  empty_value.key = "";
  DeliveriesMessage encoded;
  encoded.add(FanoutRecord(sample_record(5, 300)), 3);
  encoded.add(FanoutRecord(tombstone), 1);
  encoded.add(FanoutRecord(empty_value), 2);
  Record defaults;  // every field as protobuf leaves it out
  defaults.partition = 0;
  defaults.offset = 0;
  encoded.add(FanoutRecord(defaults), 1);

  SubscribeEventRead event;
  expect_read_as_protobuf_parses(encoded.to_string(), event);
  // Read into again, as the client does, by a smaller batch: nothing of the
  // last one stays.
  encoded.clear();
  encoded.add(FanoutRecord(tombstone), 4);
  expect_read_as_protobuf_parses(encoded.to_string(), event);
  EXPECT_EQ(event.records.size(), 1u);

  v1::SubscribeEvent started;
  started.mutable_started()->set_session_id("s-1");
  started.mutable_started()->set_proxy_id("proxy-a");
  started.mutable_started()->mutable_assignment()->add_partitions(4);
  started.mutable_started()->mutable_assignment()->add_partitions(300);
  expect_read_as_protobuf_parses(started.SerializeAsString(), event);

  v1::SubscribeEvent assignment;
  assignment.mutable_assignment();  // no partitions left on this instance
  expect_read_as_protobuf_parses(assignment.SerializeAsString(), event);
  expect_read_as_protobuf_parses(v1::SubscribeEvent().SerializeAsString(), event);
}

TEST(FanoutEncoding, TheClientSkipsFieldsItDoesNotKnow) {
  v1::SubscribeEvent message;
  auto* delivery = message.mutable_deliveries()->add_deliveries();
  sidecar::fill_consumed_record(sample_record(5, 20), delivery->mutable_record());
  delivery->set_attempt(1);
  // As a newer proxy might add them: a field of each wire type, at each level.
  auto add_unknown = [](google::protobuf::Message& to) {
    auto* fields = to.GetReflection()->MutableUnknownFields(&to);
    fields->AddVarint(90, 7);
    fields->AddLengthDelimited(91, "new");
    fields->AddFixed32(92, 1);
    fields->AddFixed64(93, 2);
  };
  add_unknown(*delivery->mutable_record()->mutable_headers(0));
  add_unknown(*delivery->mutable_record());
  add_unknown(*delivery);
  add_unknown(*message.mutable_deliveries());
  add_unknown(message);
  SubscribeEventRead event;
  expect_read_as_protobuf_parses(message.SerializeAsString(), event);
}

TEST(FanoutEncoding, TheClientRefusesWhatIsNotASubscribeEvent) {
  DeliveriesMessage encoded;
  encoded.add(FanoutRecord(sample_record(5, 100)), 1);
  const auto bytes = encoded.to_string();
  SubscribeEventRead event;
  EXPECT_FALSE(read_subscribe_event(bytes.substr(0, bytes.size() - 20), event)) << "cut short";
  EXPECT_FALSE(read_subscribe_event(std::string("\x12\x05\x0a\xff", 4), event));
}

TEST(FanoutEncoding, TheClientRefusesAnEventCutShortAtAFieldBoundary) {
  Record record;
  record.topic = "t";
  record.value = "v";  // the last field: its 3 bytes end every enclosing message
  const auto bytes = built_field_by_field({{record, 0}}).SerializeAsString();
  SubscribeEventRead event;
  ASSERT_TRUE(read_subscribe_event(bytes, event)) << "the whole event reads";
  EXPECT_FALSE(read_subscribe_event(bytes.substr(0, bytes.size() - 3), event));
}

TEST(FanoutEncoding, TheClientRefusesLengthsBeyondTheEventWithoutReservingThem) {
  // Deliveries, a delivery, a record and its value, each claiming about
  // 2 GiB in a 24-byte event: refused before anything is reserved.
  const std::string nested_claims(
      "\x12\xff\xff\xff\xff\x07\x0a\xf0\xff\xff\xff\x07\x0a\xe0\xff\xff\xff\x07"
      "\x32\xd0\xff\xff\xff\x07", 24);
  SubscribeEventRead event;
  EXPECT_FALSE(read_subscribe_event(nested_claims, event));
  // A length above what an int holds.
  EXPECT_FALSE(read_subscribe_event(std::string("\x12\xff\xff\xff\xff\x0f\x00", 7), event));
}

}  // namespace
}  // namespace whippet::fanout
