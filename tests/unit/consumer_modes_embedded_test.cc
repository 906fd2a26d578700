// Batch and key-ordered modes, retries around them and mode switches, on the
// embedded (mock) cluster.

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "embedded_consumer_fixture.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"
#include "whippet/error.h"
#include "whippet/retry.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::HandledRecords;
using testing::produce_numbered;
using testing::unique_name;

using ConsumerModesTest = EmbeddedConsumerFixture;

struct Batches {
  std::mutex mutex;
  std::vector<std::vector<Record>> seen;
  std::size_t records = 0;

  void add(std::span<const Record> batch) {
    std::lock_guard lock(mutex);
    seen.emplace_back(batch.begin(), batch.end());
    records += batch.size();
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return records;
  }
};

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST_F(ConsumerModesTest, BatchesAreBoundedByCountAndHoldOnePartitionInOffsetOrder) {
  produce_numbered(cluster_options_, topic_, 2000, kPartitions);
  auto settings = options(unique_name("batch"));
  settings.dispatch = Batched{64, 1 << 20, 50ms};
  Batches batches;
  Consumer consumer(settings, BatchHandler([&](std::span<const Record> batch) { batches.add(batch); }));
  ASSERT_TRUE(wait_until([&] { return batches.count() >= 2000; }, 30s)) << batches.count();
  consumer.close(5s);
  std::map<int32_t, int64_t> next_offset;
  std::size_t full = 0;
  for (const auto& batch : batches.seen) {
    ASSERT_FALSE(batch.empty());
    ASSERT_LE(batch.size(), 64u);
    if (batch.size() == 64) ++full;
    for (const auto& record : batch) {
      ASSERT_EQ(record.partition, batch.front().partition) << "a batch mixed partitions";
      ASSERT_EQ(record.offset, next_offset[record.partition]) << "gap or reorder in a batch";
      ++next_offset[record.partition];
    }
  }
  EXPECT_EQ(batches.count(), 2000u);
  EXPECT_GT(full, 10u) << "records were never batched up to the count bound";
}

TEST_F(ConsumerModesTest, BatchesAreBoundedByBytesAndAPartialBatchWaitsAtMostMaxWait) {
  // 100 records of about 5 bytes: a 20-byte bound allows 4 per batch.
  produce_numbered(cluster_options_, topic_, 100, 1);
  auto settings = options(unique_name("batch-bytes"));
  settings.dispatch = Batched{1000, 20, 200ms};
  Batches batches;
  Consumer consumer(settings, BatchHandler([&](std::span<const Record> batch) { batches.add(batch); }));
  ASSERT_TRUE(wait_until([&] { return batches.count() >= 100; }, 30s)) << batches.count();
  for (const auto& batch : batches.seen) {
    std::size_t bytes = 0;
    for (const auto& record : batch) bytes += record.key->size() + record.value->size();
    EXPECT_TRUE(bytes <= 20 || batch.size() == 1) << bytes << " bytes in " << batch.size();
  }
  // A lone record is handed over once max_wait has passed, not held forever.
  const auto before = batches.count();
  produce_numbered(cluster_options_, topic_, 1, 1);
  const auto produced = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return batches.count() > before; }, 5s));
  const auto waited = std::chrono::steady_clock::now() - produced;
  EXPECT_LT(waited, 2s);
}

TEST_F(ConsumerModesTest, ABlockingRetryRunsTheWholeBatchAgain) {
  produce_numbered(cluster_options_, topic_, 200, 1);
  auto settings = options(unique_name("batch-retry"));
  settings.dispatch = Batched{50, 1 << 20, 50ms};
  settings.retry.default_policy = BlockingRetry{FixedBackOffs{{100ms, 100ms}}};
  Batches batches;
  std::atomic<int> failures{0};
  Consumer consumer(settings, BatchHandler([&](std::span<const Record> batch) {
    batches.add(batch);
    for (const auto& record : batch) {
      if (record.offset == 120 && failures.fetch_add(1) < 2) throw std::runtime_error("flaky");
    }
  }));
  ASSERT_TRUE(wait_until([&] { return failures.load() >= 2 && batches.count() >= 200 + 2 * 50; },
                         30s))
      << batches.count();
  consumer.close(5s);
  // The failing batch was seen three times, with the very same records.
  std::vector<std::vector<int64_t>> with_120;
  for (const auto& batch : batches.seen) {
    std::vector<int64_t> offsets;
    for (const auto& record : batch) offsets.push_back(record.offset);
    if (std::find(offsets.begin(), offsets.end(), 120) != offsets.end()) with_120.push_back(offsets);
  }
  ASSERT_EQ(with_120.size(), 3u);
  EXPECT_EQ(with_120[0], with_120[1]);
  EXPECT_EQ(with_120[1], with_120[2]);
}

TEST_F(ConsumerModesTest, ANonRetriableErrorSkipsTheRetryTopicsInKeyOrderedMode) {
  produce_numbered(cluster_options_, topic_, 100, kPartitions, 10);
  const auto group = unique_name("non-retriable");
  auto settings = options(group);
  settings.dispatch = KeyOrdered{8};
  settings.retry.per_topic[topic_] = RetryTopics{{10s}};
  settings.retry.topic_settings.partitions = 1;
  HandledRecords handled;
  std::atomic<int> attempts_on_poison{0};
  Consumer consumer(settings, [&](const Record& record) {
    if (record.value == "42") {
      ++attempts_on_poison;
      throw NonRetriableError("record 42 can never succeed");
    }
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_count(99, 30s)) << handled.count();

  // Read the dead-letter topic as another group would.
  HandledRecords dead;
  std::mutex mutex;
  Headers dead_headers;
  auto reader = options(unique_name("reader"));
  reader.topics = {RetryTopicNamer::dead_letter_topic(topic_, group)};
  Consumer dead_letters(reader, [&](const Record& record) {
    {
      std::lock_guard lock(mutex);
      dead_headers = record.headers;
    }
    dead.add(record);
  });
  ASSERT_TRUE(dead.wait_for_count(1, 30s));
  EXPECT_EQ(attempts_on_poison.load(), 1);
  std::lock_guard lock(mutex);
  EXPECT_EQ(last_header(dead_headers, retry_headers::kRetryAttempt), "1");
  EXPECT_EQ(last_header(dead_headers, retry_headers::kOriginalTopic), topic_);
  EXPECT_EQ(last_header(dead_headers, retry_headers::kErrorType), "whippet::NonRetriableError");
}

TEST_F(ConsumerModesTest, SwitchingBetweenOrderedAndParallelAcrossRestartsLosesNothing) {
  constexpr int kRecords = 3000;
  produce_numbered(cluster_options_, topic_, kRecords, kPartitions, 50);
  const auto group = unique_name("switch");
  HandledRecords handled;
  auto slow = [&](const Record& record) {
    std::this_thread::sleep_for(200us);
    handled.add(record);
  };
  DispatchMode modes[] = {PartitionOrdered{}, KeyOrdered{16}, PartitionOrdered{}};
  std::size_t target = kRecords / 3;
  for (const auto& mode : modes) {
    auto settings = options(group);
    settings.dispatch = mode;
    Consumer consumer(settings, slow);
    ASSERT_TRUE(handled.wait_for_count(std::min<std::size_t>(target, kRecords), 60s))
        << handled.count();
    target += kRecords / 3;
  }  // each member closes gracefully: it commits its prefix and its gaps
  ASSERT_EQ(handled.count(), static_cast<std::size_t>(kRecords)) << "records replayed or lost";
  std::set<std::pair<int32_t, int64_t>> distinct;
  for (const auto& [partition, offsets] : handled.by_partition()) {
    for (auto offset : offsets) distinct.insert({partition, offset});
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kRecords));
}

TEST_F(ConsumerModesTest, MismatchedHandlersAndModesAreRefusedWithAClearError) {
  auto batched = options(unique_name("bad"));
  batched.dispatch = Batched{};
  try {
    Consumer consumer(batched, [](const Record&) {});
    FAIL() << "a record handler was accepted for batched mode";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(std::string(error.what()).find("BatchHandler"), std::string::npos) << error.what();
  }
  auto plain = options(unique_name("bad"));
  EXPECT_THROW(Consumer(plain, BatchHandler([](std::span<const Record>) {})), Error);
  auto parallel = options(unique_name("bad"));
  parallel.dispatch = KeyOrdered{0};
  EXPECT_THROW(Consumer(parallel, [](const Record&) {}), Error);
  auto pattern = options(unique_name("bad"));
  pattern.topics.clear();
  pattern.topic_pattern = "modes-.*";
  pattern.retry.default_policy = RetryTopics{{1s}};
  try {
    Consumer consumer(pattern, [](const Record&) {});
    FAIL() << "retry topics without topic names were accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidConfig);
  }
}

TEST_F(ConsumerModesTest, ABlockedPartitionDoesNotTakeTheOnlyWorkerFromTheOthers) {
  // Records 0..399 alternate between partitions 0 and 1; offset 2 of
  // partition 0 (record 4) fails for good and blocks on a 10-minute back-off.
  produce_numbered(cluster_options_, topic_, 400, 2);
  auto settings = options(unique_name("spare-thread"));
  settings.worker_threads = 1;
  settings.retry.default_policy = BlockingRetry{FixedBackOffs{{10min}}};
  settings.retry.topic_settings.partitions = 1;
  HandledRecords handled;
  Consumer consumer(settings, [&](const Record& record) {
    if (record.partition == 0 && record.offset == 2) throw std::runtime_error("blocks");
    handled.add(record);
  });
  // Partition 1's 200 records, while partition 0 holds the one worker it
  // was given in a back-off: the pool must have lent a thread.
  ASSERT_TRUE(wait_until(
      [&] {
        auto by_partition = handled.by_partition();
        return by_partition[1].size() >= 200;
      },
      30s))
      << handled.count() << " handled";
  auto by_partition = handled.by_partition();
  EXPECT_EQ(by_partition[0].size(), 2u) << "partition 0 went past its blocked record";
  consumer.close(5s);
}

TEST(BlockingStateJsonTest, NamesEveryField) {
  BlockingState state;
  state.blocked.push_back({{"orders", 3}, 42, 2, 1.5, "boom"});
  state.skipping_partitions.push_back({"orders", 1});
  state.skipping_topics.push_back("audit");
  const auto json = to_json(state);
  EXPECT_EQ(json["blocked"][0]["topic"], "orders");
  EXPECT_EQ(json["blocked"][0]["partition"], 3);
  EXPECT_EQ(json["blocked"][0]["offset"], 42);
  EXPECT_EQ(json["blocked"][0]["attempt"], 2);
  EXPECT_EQ(json["blocked"][0]["error"], "boom");
  EXPECT_EQ(json["skipping_partitions"][0]["partition"], 1);
  EXPECT_EQ(json["skipping_topics"][0], "audit");
}

}  // namespace
}  // namespace whippet
