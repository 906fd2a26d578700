// The broker stopped and restarted while a producer sends: every record has
// exactly one outcome, and every confirmed record is in the topic.

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/test_cluster.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

TEST(ProducerBrokerRestartTest, ConfirmedRecordsSurviveAndTheRestAreReportedFailed) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kRecords = 100000;
  constexpr int kPartitions = 8;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("restart");
  testing::create_topic(cluster, topic, kPartitions);

  enum class Outcome : uint8_t { kPending, kConfirmed, kFailed };
  std::vector<std::atomic<Outcome>> outcomes(kRecords);
  std::promise<void> a_third_sent;
  std::atomic<int> outcome_count{0};
  std::atomic<int> reported_twice{0};

  ProducerOptions options;
  options.cluster = cluster;
  options.delivery_timeout = 60s;
  Producer producer(options);
  std::thread sender([&] {
    for (int i = 0; i < kRecords; ++i) {
      ProducerRecord record;
      record.topic = topic;
      record.key = "key-" + std::to_string(i % 997);
      record.value = std::to_string(i);
      producer.send(std::move(record), [&, i](const Result<RecordMetadata>& result) {
        auto expected = Outcome::kPending;
        if (!outcomes[i].compare_exchange_strong(
                expected, result.ok() ? Outcome::kConfirmed : Outcome::kFailed)) {
          reported_twice.fetch_add(1);
        }
        outcome_count.fetch_add(1);
      });
      if (i == kRecords / 3) a_third_sent.set_value();
    }
  });

  // Restart the broker once a third of the records has been handed over.
  a_third_sent.get_future().wait();
  testing::run_broker_command("stop");
  std::this_thread::sleep_for(2s);
  testing::run_broker_command("start");
  sender.join();
  producer.flush(120s);

  EXPECT_EQ(outcome_count.load(), kRecords) << "records without an outcome";
  EXPECT_EQ(reported_twice.load(), 0);
  std::set<std::string> confirmed;
  int failed = 0;
  for (int i = 0; i < kRecords; ++i) {
    const auto outcome = outcomes[i].load();
    ASSERT_NE(outcome, Outcome::kPending) << "record " << i << " has no outcome";
    if (outcome == Outcome::kConfirmed) confirmed.insert(std::to_string(i));
    else ++failed;
  }

  // Read the whole topic back.
  const auto ends = testing::end_offsets(cluster, topic);
  int64_t stored = 0;
  for (const auto& [partition, end] : ends) stored += end;
  std::mutex mutex;
  std::multiset<std::string> values;
  testing::HandledRecords handled;
  ConsumerOptions consumer_options;
  consumer_options.cluster = cluster;
  consumer_options.group_id = testing::unique_name("verify");
  consumer_options.topics = {topic};
  consumer_options.initial_offset = InitialOffset::kEarliest;
  Consumer consumer(consumer_options, [&](const Record& record) {
    {
      std::lock_guard lock(mutex);
      values.insert(record.value.value_or(""));
    }
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_all(ends, 120s)) << handled.count() << " of " << stored;
  consumer.close(10s);

  std::lock_guard lock(mutex);
  for (const auto& value : confirmed) {
    ASSERT_EQ(values.count(value), 1u) << "confirmed record " << value << " stored "
                                       << values.count(value) << " times";
  }
  std::printf("[ restart ] %zu confirmed, %d reported failed, %lld stored\n", confirmed.size(),
              failed, static_cast<long long>(stored));
}

}  // namespace
}  // namespace whippet
