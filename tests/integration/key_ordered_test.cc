// The key-ordered parallel consumer on a real broker: per-key order, crash
// recovery through the gaps in the commit metadata, rebalances, and the gap
// window that keeps the metadata inside the broker's limit.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "consumer/gap_codec.h"
#include "support/child_process.h"
#include "support/handled_log.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::HandledRecords;

ConsumerOptions parallel_options(const std::string& topic, const std::string& group,
                                 std::size_t parallelism) {
  auto options = testing::test_consumer_options(topic, group);
  options.dispatch = KeyOrdered{parallelism};
  return options;
}

// The group's committed position and the handled offsets above it, per partition.
struct CommittedProgress {
  int64_t position = 0;
  std::set<int64_t> gaps;
  std::size_t metadata_bytes = 0;
};

std::map<int32_t, CommittedProgress> committed_progress(const std::string& group,
                                                        const std::string& topic) {
  AdminClient admin(AdminOptions{testing::test_cluster_options()});
  std::map<int32_t, CommittedProgress> progress;
  for (const auto& lag : admin.group_lag(group, {topic})) {
    auto& entry = progress[lag.topic_partition.partition];
    entry.position = lag.committed_offset.value_or(0);
    entry.metadata_bytes = lag.committed_metadata.size();
    if (!lag.committed_offset) continue;
    auto decoded = consumer::decode_gaps(*lag.committed_offset, lag.committed_metadata);
    EXPECT_TRUE(decoded.ok()) << "partition " << lag.topic_partition.partition << ": "
                              << decoded.problem;
    entry.gaps.insert(decoded.handled.begin(), decoded.handled.end());
  }
  return progress;
}

void expect_no_loss(const HandledRecords& handled, const std::map<int32_t, int64_t>& ends) {
  auto by_partition = handled.by_partition();
  for (const auto& [partition, end] : ends) {
    const auto& offsets = by_partition[partition];
    std::set<int64_t> distinct(offsets.begin(), offsets.end());
    EXPECT_EQ(static_cast<int64_t>(distinct.size()), end)
        << "partition " << partition << " lost records";
  }
}

std::size_t duplicates_of(const HandledRecords& handled) {
  std::size_t duplicates = 0;
  for (const auto& [partition, offsets] : handled.by_partition()) {
    std::set<int64_t> distinct(offsets.begin(), offsets.end());
    duplicates += offsets.size() - distinct.size();
  }
  return duplicates;
}

TEST(KeyOrderedIntegrationTest, PerKeyOrderHoldsUnderParallelism64WithRandomDelays) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 4;
  constexpr int kRecords = 20000;
  constexpr int kKeys = 500;  // a multiple of kPartitions: each key stays in one partition
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("key-order");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions, kKeys);

  std::mutex mutex;
  std::map<std::string, std::vector<int>> values_by_key;
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  HandledRecords handled;
  auto options = parallel_options(topic, testing::unique_name("group"), 64);
  Consumer consumer(options, [&](const Record& record) {
    const int now_running = ++running;
    int seen = most_running.load();
    while (now_running > seen && !most_running.compare_exchange_weak(seen, now_running)) {
    }
    thread_local std::mt19937 random(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
    {
      std::lock_guard lock(mutex);
      values_by_key[*record.key].push_back(std::stoi(*record.value));
    }
    --running;
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_count(kRecords, 120s)) << handled.count() << " handled";
  consumer.close(10s);

  ASSERT_EQ(values_by_key.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, values] : values_by_key) {
    ASSERT_EQ(values.size(), static_cast<std::size_t>(kRecords / kKeys)) << key;
    for (std::size_t i = 1; i < values.size(); ++i) {
      ASSERT_LT(values[i - 1], values[i]) << "key " << key << " handled out of order";
    }
  }
  // Sleeping handlers only overlap if keys really run in parallel.
  EXPECT_GE(most_running.load(), 32) << "parallelism 64 never got past " << most_running.load();
  std::printf("[ order   ] %d keys in order, up to %d handlers at once\n", kKeys,
              most_running.load());
}

TEST(KeyOrderedIntegrationTest, KilledParallelConsumerReplaysOnlyItsGapsAndInFlightRecords) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 2;
  constexpr int kRecords = 20000;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("parallel-crash");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  const std::string output = ::testing::TempDir() + testing::unique_name("handled") + ".log";
  const std::vector<std::string> arguments = {
      "--brokers", cluster.brokers, "--topic", topic, "--group", group, "--output", output,
      "--handler-delay-us", "3000", "--commit-interval-ms", "100", "--parallelism", "64"};
  testing::HandledLog log(output);
  {
    testing::ChildProcess first(WHIPPET_TEST_HELPER_PATH, arguments);
    ASSERT_TRUE(log.wait_for_lines(kRecords / 4, 120s)) << log.lines() << " handled";
    first.kill_now();
  }
  const auto before_kill = log.read();
  const auto lines_before_kill = log.lines();
  const auto committed = committed_progress(group, topic);
  std::size_t committed_gaps = 0;
  for (const auto& [partition, progress] : committed) committed_gaps += progress.gaps.size();

  testing::ChildProcess second(WHIPPET_TEST_HELPER_PATH, arguments);
  const auto ends = testing::end_offsets(cluster, topic);
  ASSERT_TRUE(log.wait_for_all(ends, 120s)) << log.lines() << " lines";
  EXPECT_EQ(second.terminate(30), 0);

  std::size_t duplicates = 0;
  std::size_t window = 0;  // handled before the kill, yet neither below the commit nor a gap
  for (const auto& [partition, offsets] : log.read()) {
    std::map<int64_t, int> times;
    for (auto offset : offsets) ++times[offset];
    ASSERT_EQ(static_cast<int64_t>(times.size()), ends.at(partition)) << "records lost";
    const auto& progress = committed.at(partition);
    std::set<int64_t> handled_before;
    if (auto found = before_kill.find(partition); found != before_kill.end()) {
      handled_before.insert(found->second.begin(), found->second.end());
    }
    for (auto offset : handled_before) {
      if (offset >= progress.position && !progress.gaps.contains(offset)) ++window;
    }
    for (const auto& [offset, count] : times) {
      if (count == 1) continue;
      duplicates += static_cast<std::size_t>(count - 1);
      EXPECT_GE(offset, progress.position) << "offset " << offset << " was committed yet replayed";
      EXPECT_FALSE(progress.gaps.contains(offset))
          << "offset " << offset << " was in the committed gaps yet replayed";
    }
  }
  EXPECT_LE(duplicates, window);
  // What a commit interval (100 ms) of handling at ~20,000 records/s leaves
  // uncommitted, with slack.
  EXPECT_LE(window, 6000u) << "replay window larger than the commit interval explains";
  // The gaps are what keeps the replay small: the commit must carry them.
  EXPECT_GT(committed_gaps, 0u) << "the commit metadata carried no gaps";
  std::printf("[ crash   ] handled before kill %zu lines, committed gaps %zu, replay window %zu, "
              "duplicates %zu\n",
              lines_before_kill, committed_gaps, window, duplicates);
  std::remove(output.c_str());
}

TEST(KeyOrderedIntegrationTest, RebalanceWith64HandlersInFlightLosesNothingAndDoesNotStall) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 8;
  constexpr int kRecords = 60000;  // about 20 s at 64 x 50 records/s: hand-overs happen mid-stream
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("parallel-rebalance");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  HandledRecords handled;
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  auto handler = [&](const Record& record) {
    const int now_running = ++running;
    int seen = most_running.load();
    while (now_running > seen && !most_running.compare_exchange_weak(seen, now_running)) {
    }
    std::this_thread::sleep_for(20ms);
    --running;
    handled.add(record);
  };
  const auto options = parallel_options(topic, group, 64);
  Consumer first(options, handler);
  ASSERT_TRUE(handled.wait_for_count(kRecords / 10, 60s));
  EXPECT_GE(most_running.load(), 48) << "64 handlers were never in flight";
  {
    Consumer second(options, handler);
    EXPECT_TRUE(second.wait_for_assignment(30s)) << "the second member got no partition";
    EXPECT_TRUE(handled.wait_for_count(kRecords / 2, 60s));
    EXPECT_LT(handled.count(), static_cast<std::size_t>(kRecords)) << "not mid-stream";
  }  // the second member leaves: its partitions come back to the first
  const auto ends = testing::end_offsets(cluster, topic);
  EXPECT_TRUE(handled.wait_for_all(ends, 120s)) << handled.count() << " handled: stalled";
  expect_no_loss(handled, ends);
  const auto duplicates = duplicates_of(handled);
  // Two hand-overs, each draining what was in flight and committing it with
  // its gaps: a replay can only come from handlers that outlived a drain.
  EXPECT_LE(duplicates, 2u * 64u);
  std::printf("[ rebal   ] %zu handled, %zu duplicates\n", handled.count(), duplicates);
}

TEST(KeyOrderedIntegrationTest, SlowKeysKeepTheGapMetadataBoundedAndARestartReplaysNothing) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 2;
  constexpr int kRecords = 100000;
  constexpr int kKeys = 1000;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("slow-keys");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions, kKeys);

  HandledRecords handled;
  auto handler = [&](const Record& record) {
    // "key-<n>": every tenth key is slow, and holds its partition's prefix back.
    if (std::stoi(record.key->substr(4)) % 10 == 0) std::this_thread::sleep_for(10ms);
    handled.add(record);
  };
  auto options = parallel_options(topic, group, 64);
  // Back-pressure would otherwise stop fetching long before the gap window
  // does: let the window be what holds the partition.
  options.max_queued_records_per_partition = 100000;
  std::atomic<bool> sampling{true};
  std::size_t largest_metadata = 0;
  std::size_t largest_gap_count = 0;
  std::thread sampler([&] {
    while (sampling.load()) {
      for (const auto& [partition, progress] : committed_progress(group, topic)) {
        largest_metadata = std::max(largest_metadata, progress.metadata_bytes);
        largest_gap_count = std::max(largest_gap_count, progress.gaps.size());
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  {
    Consumer first(options, handler);
    ASSERT_TRUE(handled.wait_for_count(kRecords / 2, 180s)) << handled.count();
  }  // a graceful restart mid-stream: what finished is committed with its gaps
  const auto handled_by_first = handled.count();
  {
    Consumer second(options, handler);
    const auto ends = testing::end_offsets(cluster, topic);
    EXPECT_TRUE(handled.wait_for_all(ends, 180s)) << handled.count() << " handled";
    expect_no_loss(handled, ends);
  }
  sampling.store(false);
  sampler.join();
  EXPECT_EQ(duplicates_of(handled), 0u) << "a restart replayed handled records";
  EXPECT_LE(largest_metadata, 4096u) << "commit metadata beyond offset.metadata.max.bytes";
  // The slow keys must have pushed the gap list towards the window's bound
  // for this to mean anything.
  EXPECT_GT(largest_metadata, 1000u);
  std::printf("[ gaps    ] first member handled %zu; largest commit metadata %zu bytes, "
              "%zu gaps\n",
              handled_by_first, largest_metadata, largest_gap_count);
}

}  // namespace
}  // namespace whippet
