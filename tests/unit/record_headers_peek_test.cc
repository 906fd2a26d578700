// fill_record skips librdkafka's header parse when the byte after the value
// says there are none (see certainly_without_headers). These tests read real
// fetched v2 records, compressed and not, and compare with librdkafka's
// parse. The legacy v0/v1 guard is tested on hand-made messages: neither
// librdkafka nor Kafka 4 writes those formats any more.

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kafka/client_config.h"
#include "kafka/handles.h"
#include "kafka/record_conversion.h"
#include "kafka_test_helpers.h"
#include "whippet/embedded_cluster.h"

namespace whippet::kafka {
namespace {

using namespace std::string_literals;

struct Shape {
  std::optional<Bytes> value;
  Headers headers;
};

// Values whose last byte is zero, empty values and tombstones, each with and
// without headers (including a header with an empty key and a null value).
std::vector<Shape> shapes() {
  const Headers some = {{"trace", "a"}, {"", std::nullopt}, {"trace", "b\0c"s}};
  std::vector<Shape> all;
  // The large value makes the codecs compress the batch (librdkafka sends
  // it plain when compressing does not shrink it).
  for (const std::optional<Bytes>& value :
       {std::optional<Bytes>("value"), std::optional<Bytes>("ends in zero\0"s),
        std::optional<Bytes>(Bytes(20000, 'x')), std::optional<Bytes>(""),
        std::optional<Bytes>()}) {
    all.push_back({value, {}});
    all.push_back({value, some});
    all.push_back({value, {{"only", "one"}}});
  }
  return all;
}

void produce_shapes(const std::string& bootstrap, const std::string& topic,
                    const std::string& codec) {
  const Properties properties = {{"bootstrap.servers", bootstrap},
                                 {"compression.codec", codec},
                                 {"linger.ms", "50"},  // so that shapes share a batch
                                 {"broker.address.family", "v4"}};
  auto producer = create_client(RD_KAFKA_PRODUCER, build_conf(properties, {}));
  for (const auto& shape : shapes()) {
    std::vector<rd_kafka_vu_t> fields(5);
    std::size_t count = 0;
    fields[count].vtype = RD_KAFKA_VTYPE_TOPIC;
    fields[count++].u.cstr = topic.c_str();
    fields[count].vtype = RD_KAFKA_VTYPE_PARTITION;
    fields[count++].u.i32 = 0;
    fields[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[count++].u.i = RD_KAFKA_MSG_F_COPY;
    if (shape.value) {
      fields[count].vtype = RD_KAFKA_VTYPE_VALUE;
      fields[count].u.mem.ptr = const_cast<char*>(shape.value->data());
      fields[count++].u.mem.size = shape.value->size();
    }
    auto headers = to_kafka_headers(shape.headers);
    fields[count].vtype = RD_KAFKA_VTYPE_HEADERS;
    fields[count++].u.headers = headers.get();
    ErrorHandle error(rd_kafka_produceva(producer.get(), fields.data(), count));
    ASSERT_EQ(error, nullptr) << rd_kafka_error_string(error.get());
    static_cast<void>(headers.release());  // librdkafka owns them now
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

// librdkafka's own reading of a message's headers: the reference.
Headers parsed_by_librdkafka(const rd_kafka_message_t& message) {
  Headers headers;
  rd_kafka_headers_t* parsed = nullptr;
  if (rd_kafka_message_headers(&message, &parsed) != RD_KAFKA_RESP_ERR_NO_ERROR) return headers;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(parsed, i, &name, &value, &size) ==
                          RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    headers.push_back({name, value ? std::optional<Bytes>(Bytes(static_cast<const char*>(value),
                                                                 size))
                                   : std::nullopt});
  }
  return headers;
}

class RecordHeadersPeekTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RecordHeadersPeekTest, FetchedRecordsKeepExactlyTheirHeaders) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  const auto topic = testing::unique_name("peek-" + GetParam());
  cluster.create_topic(topic, 1);
  ASSERT_NO_FATAL_FAILURE(produce_shapes(cluster.bootstrap_servers(), topic, GetParam()));

  const auto expected = shapes();
  auto consumer = testing::raw_consumer(cluster.bootstrap_servers(), testing::unique_name("peek"));
  auto assignment = make_partition_list(1);
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  ASSERT_EQ(rd_kafka_assign(consumer.get(), assignment.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::size_t seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen < expected.size() && std::chrono::steady_clock::now() < deadline) {
    MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const auto& shape = expected.at(static_cast<std::size_t>(message->offset));
    // A record that is not a fresh one: its stale headers must go.
    Record record;
    record.headers = {{"stale", "x"}};
    fill_record(*message, record);
    EXPECT_EQ(record.value, shape.value) << "offset " << message->offset;
    EXPECT_EQ(record.headers, shape.headers) << "offset " << message->offset;
    EXPECT_EQ(record.headers, parsed_by_librdkafka(*message)) << "offset " << message->offset;
    EXPECT_EQ(certainly_without_headers(*message),
              shape.value && !shape.value->empty() && shape.headers.empty())
        << "offset " << message->offset << ": only a value followed by a count of zero is skipped";
    ++seen;
  }
  rd_kafka_consumer_close(consumer.get());
  EXPECT_EQ(seen, expected.size());
}

// A legacy message's value follows its 4-byte big-endian length and may end
// its buffer: the byte after it is never read (AddressSanitizer would
// report it, the buffer below being exactly that long), and librdkafka is
// asked instead, which finds no headers.
TEST(RecordHeadersPeekLegacyTest, AValueAfterABigEndianLengthIsNeverLookedPast) {
  const std::size_t length = 300;
  auto buffer = std::make_unique<unsigned char[]>(4 + length);
  buffer[0] = 0, buffer[1] = 0, buffer[2] = length >> 8, buffer[3] = length & 0xff;
  std::fill_n(buffer.get() + 4, length, 'v');
  rd_kafka_message_t message{};
  message.payload = buffer.get() + 4;
  message.len = length;
  EXPECT_FALSE(certainly_without_headers(message));
  // The same value after a v2 varint length (300 zigzag-encoded) with a
  // header count of zero behind it is looked past.
  auto v2 = std::make_unique<unsigned char[]>(4 + length + 1);
  v2[0] = 0, v2[1] = 'k', v2[2] = 0xd8, v2[3] = 0x04;
  std::fill_n(v2.get() + 4, length, 'v');
  v2[4 + length] = 0;
  message.payload = v2.get() + 4;
  EXPECT_TRUE(certainly_without_headers(message));
}

INSTANTIATE_TEST_SUITE_P(Codecs, RecordHeadersPeekTest,
                         ::testing::Values("none", "gzip", "snappy", "lz4", "zstd"));

}  // namespace
}  // namespace whippet::kafka
