// Records handed back by the workers are refilled by the poll thread
// (RecordRecycler): every field of a refilled record must be the new
// message's, whatever the record held before.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "consumer/record_recycler.h"
#include "embedded_consumer_fixture.h"
#include "support/test_cluster.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using consumer::RecordRecycler;
using testing::unique_name;

Record small_record(int64_t offset) {
  Record record;
  record.topic = "a-topic-name-longer-than-short-strings";
  record.offset = offset;
  record.value = std::string(100, 'v');
  return record;
}

TEST(RecordRecyclerTest, HandsBackWhatWasGivenAndThenFreshRecords) {
  RecordRecycler recycler(1 << 20);
  std::vector<Record> handled{small_record(1), small_record(2)};
  recycler.give_back(handled);
  EXPECT_EQ(recycler.spare(), 2u);
  // A recycled record keeps its capacity: refilling it allocates nothing.
  const auto first = recycler.take();
  EXPECT_GE(first.value->capacity(), 100u);
  EXPECT_EQ(first.offset, 2);
  EXPECT_EQ(recycler.take().offset, 1);
  EXPECT_EQ(recycler.take().offset, -1) << "no spare left: a fresh record";
}

TEST(RecordRecyclerTest, KeepsNeitherLargeRecordsNorMoreThanItsBudget) {
  const auto one = RecordRecycler::held_bytes(small_record(0));
  RecordRecycler recycler(3 * one);
  std::vector<Record> handled;
  auto large = small_record(0);
  large.value = std::string(RecordRecycler::kMaximumRecordBytes + 1, 'x');
  handled.push_back(std::move(large));
  for (int64_t offset = 1; offset <= 5; ++offset) handled.push_back(small_record(offset));
  recycler.give_back(handled);
  EXPECT_EQ(recycler.spare(), 3u);
  EXPECT_EQ(handled[0].value->size(), RecordRecycler::kMaximumRecordBytes + 1)
      << "a large record stays with the caller, to be freed";
  EXPECT_EQ(handled[4].value->size(), 100u) << "beyond the budget: stays with the caller";
}

// Records of unlike shapes in turn, so that each is refilled from a record
// of another shape: long and short values, tombstones, null and empty keys,
// more and fewer headers, null header values.
ProducerRecord shaped_record(const std::string& topic, int index) {
  ProducerRecord record;
  record.topic = topic;
  record.partition = 0;
  record.timestamp = Timestamp(std::chrono::milliseconds(1'700'000'000'000 + index));
  switch (index % 4) {
    case 0:
      record.key = "key-" + std::to_string(index);
      record.value = std::string(300 + index % 50, 'a');
      record.headers = {{"first", "1"}, {"second", std::string(40, 's')}, {"first", "3"}};
      break;
    case 1:
      break;  // null key, tombstone, no headers
    case 2:
      record.key = "";
      record.value = "";
      record.headers = {{"null-valued", std::nullopt}};
      break;
    default:
      record.key = std::string(64, 'k');
      record.value = "v" + std::to_string(index);
      break;
  }
  return record;
}

class ConsumerRecordReuseTest : public EmbeddedConsumerFixture {};

TEST_F(ConsumerRecordReuseTest, EveryFieldOfARefilledRecordIsTheNewMessages) {
  // In waves, each sent once the last is handled, so that the records of a
  // wave are refilled from the handled ones of the waves before.
  constexpr int kWaves = 8;
  constexpr int kPerWave = 500;
  constexpr int kRecords = kWaves * kPerWave;
  ProducerOptions producer_options;
  producer_options.cluster = cluster_options_;
  Producer producer(producer_options);
  std::mutex mutex;
  std::vector<Record> received;
  testing::HandledRecords handled;
  {
    Consumer consumer(options(unique_name("group")), [&](const Record& record) {
      {
        std::lock_guard lock(mutex);
        received.push_back(record);
      }
      handled.add(record);
    });
    for (int wave = 0; wave < kWaves; ++wave) {
      for (int i = wave * kPerWave; i < (wave + 1) * kPerWave; ++i) {
        producer.send(shaped_record(topic_, i), [](const auto&) {});
      }
      producer.flush(30s);
      ASSERT_TRUE(handled.wait_for_count(static_cast<std::size_t>((wave + 1) * kPerWave), 30s))
          << handled.count() << " handled in wave " << wave;
    }
    consumer.close(5s);
  }
  ASSERT_EQ(received.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    const auto expected = shaped_record(topic_, i);
    const auto& actual = received[static_cast<std::size_t>(i)];
    ASSERT_EQ(actual.offset, i);
    EXPECT_EQ(actual.topic, topic_) << i;
    EXPECT_EQ(actual.partition, 0) << i;
    EXPECT_EQ(actual.timestamp, *expected.timestamp) << i;
    EXPECT_EQ(actual.key, expected.key) << i;
    EXPECT_EQ(actual.value, expected.value) << i;
    EXPECT_EQ(actual.headers, expected.headers) << i;
  }
}

}  // namespace
}  // namespace whippet
