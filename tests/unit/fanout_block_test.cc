// Records encoded once into shared blocks, and messages that refer to those
// bytes: whatever part of a block a subscriber sends (from any position,
// across blocks, mixed with records pushed again), it must be the
// SubscribeEvent protobuf builds field by field, and the bytes must stay
// valid for as long as gRPC holds the message.

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "deliveries_message.h"
#include "record_messages.h"
#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {
namespace {

Record numbered(int64_t offset, std::size_t value_bytes = 200) {
  Record record;
  record.topic = "orders";
  record.partition = 2;
  record.offset = offset;
  record.timestamp = Timestamp(std::chrono::milliseconds(1'700'000'000'000 + offset));
  record.key = "k" + std::to_string(offset);
  record.value = std::string(value_bytes, static_cast<char>('a' + offset % 26));
  if (offset % 3 == 0) record.headers = {{"h", std::to_string(offset)}};
  return record;
}

std::vector<SharedRecord> written(DeliveryBlockWriter& writer, int64_t from, int64_t count,
                                  std::size_t value_bytes = 200) {
  std::vector<SharedRecord> records;
  for (int64_t offset = from; offset < from + count; ++offset) {
    records.push_back(share_record(numbered(offset, value_bytes), writer));
  }
  return records;
}

v1::SubscribeEvent expected(const std::vector<std::pair<int64_t, std::uint32_t>>& deliveries,
                            std::size_t value_bytes = 200) {
  v1::SubscribeEvent event;
  auto* all = event.mutable_deliveries();
  for (const auto& [offset, attempt] : deliveries) {
    auto* delivery = all->add_deliveries();
    sidecar::fill_consumed_record(numbered(offset, value_bytes), delivery->mutable_record());
    delivery->set_attempt(attempt);
  }
  return event;
}

std::string flattened(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

void expect_event(const std::string& bytes, const v1::SubscribeEvent& wanted) {
  v1::SubscribeEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, wanted))
      << "parsed " << parsed.ShortDebugString().substr(0, 400);
}

TEST(FanoutBlocks, ConsecutiveRecordsOfABlockAreOneSliceOfItsBytes) {
  DeliveryBlockWriter writer;
  const auto records = written(writer, 0, 10);
  for (std::size_t i = 1; i < records.size(); ++i) {
    ASSERT_EQ(records[i]->placed.block, records[0]->placed.block) << "ten small records, one block";
    EXPECT_EQ(records[i]->placed.placement.delivery.start,
              records[i - 1]->placed.placement.delivery.end());
  }
  DeliveriesMessage message;
  std::vector<std::pair<int64_t, std::uint32_t>> deliveries;
  for (const auto& record : records) {
    message.add(*record, 1);
    deliveries.emplace_back(record->offset, 1);
  }
  const auto buffer = message.to_byte_buffer();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(buffer.Dump(&slices).ok());
  EXPECT_EQ(slices.size(), 2u) << "the event's framing, then the ten records' bytes";
  expect_event(flattened(buffer), expected(deliveries));
  EXPECT_EQ(flattened(buffer), message.to_string());
}

TEST(FanoutBlocks, SubscribersAtDifferentPositionsSendTheirOwnPartsOfTheSameBlocks) {
  DeliveryBlockWriter writer;
  // About 230 bytes a delivery: 1000 records fill several 64 KiB blocks.
  const auto records = written(writer, 100, 1000);
  ASSERT_NE(records.front()->placed.block, records.back()->placed.block);
  const auto last_of_first_block = std::find_if(records.begin(), records.end(), [&](const auto& r) {
    return r->placed.block != records.front()->placed.block;
  }) - records.begin() - 1;

  // One subscriber from the start, one from the middle of the first block
  // to past its end (a partial block on each side), one with a single record.
  const std::vector<std::pair<std::size_t, std::size_t>> windows = {
      {0, records.size()},
      {static_cast<std::size_t>(last_of_first_block) / 2, static_cast<std::size_t>(last_of_first_block) + 40},
      {static_cast<std::size_t>(last_of_first_block), static_cast<std::size_t>(last_of_first_block) + 1}};
  std::vector<grpc::ByteBuffer> sent;
  std::vector<v1::SubscribeEvent> wanted;
  DeliveriesMessage message;  // reused, as a session does
  for (const auto& [from, to] : windows) {
    message.clear();
    std::vector<std::pair<int64_t, std::uint32_t>> deliveries;
    for (auto i = from; i < to; ++i) {
      message.add(*records[i], 1);
      deliveries.emplace_back(records[i]->offset, 1);
    }
    sent.push_back(message.to_byte_buffer());
    wanted.push_back(expected(deliveries));
  }
  for (std::size_t i = 0; i < sent.size(); ++i) expect_event(flattened(sent[i]), wanted[i]);
}

TEST(FanoutBlocks, RecordsPushedAgainAreFramedWithTheirAttemptBetweenSharedBytes) {
  DeliveryBlockWriter writer;
  const auto records = written(writer, 0, 6);
  DeliveriesMessage message;
  const std::vector<std::pair<int64_t, std::uint32_t>> deliveries = {
      {0, 3}, {1, 2}, {2, 1}, {3, 1}, {4, 200}, {5, 1}};
  for (const auto& [offset, attempt] : deliveries) {
    message.add(*records[static_cast<std::size_t>(offset)], attempt);
  }
  expect_event(flattened(message.to_byte_buffer()), expected(deliveries));
  // Not consecutive in the block: the records of a filtered stream.
  message.clear();
  message.add(*records[1], 1);
  message.add(*records[4], 1);
  message.add(*records[2], 1);
  expect_event(message.to_string(), expected({{1, 1}, {4, 1}, {2, 1}}));
}

TEST(FanoutBlocks, TheMessageKeepsItsBlocksAliveAfterTheRecordsAreGone) {
  grpc::ByteBuffer buffer;
  {
    DeliveryBlockWriter writer;
    const auto records = written(writer, 0, 400);
    DeliveriesMessage message;
    for (const auto& record : records) message.add(*record, 1);
    buffer = message.to_byte_buffer();
  }  // the records, the writer and the message are gone: only gRPC's reference is left
  std::vector<std::pair<int64_t, std::uint32_t>> deliveries;
  for (int64_t offset = 0; offset < 400; ++offset) deliveries.emplace_back(offset, 1);
  expect_event(flattened(buffer), expected(deliveries));
}

TEST(FanoutBlocks, ARecordLargerThanABlockGetsABlockOfItsOwn) {
  DeliveryBlockWriter writer;
  const auto big = DeliveryBlockWriter::kBlockCapacity + 1000;
  const auto before = share_record(numbered(1, 10), writer);
  const auto large = share_record(numbered(2, big), writer);
  const auto after = share_record(numbered(3, 10), writer);
  EXPECT_NE(large->placed.block, before->placed.block);
  EXPECT_NE(after->placed.block, large->placed.block);
  DeliveriesMessage message;
  message.add(*before, 1);
  message.add(*large, 1);
  message.add(*after, 1);
  auto wanted = expected({{1, 1}, {3, 1}}, 10);
  auto* middle = wanted.mutable_deliveries()->mutable_deliveries()->Add();
  sidecar::fill_consumed_record(numbered(2, big), middle->mutable_record());
  middle->set_attempt(1);
  wanted.mutable_deliveries()->mutable_deliveries()->SwapElements(1, 2);
  expect_event(flattened(message.to_byte_buffer()), wanted);
}

TEST(FanoutBlocks, ARecordOfItsOwnIsABlockOfItsSize) {
  const FanoutRecord alone(numbered(7));
  EXPECT_EQ(alone.placed.placement.delivery.start, 0u);
  EXPECT_EQ(alone.first_delivery().size(), alone.placed.placement.delivery.size);
  DeliveriesMessage message;
  message.add(alone, 1);
  expect_event(message.to_string(), expected({{7, 1}}));
}

}  // namespace
}  // namespace whippet::fanout
