// A rebalance while a blocking retry waits out a long back-off: the revoke
// interrupts the wait at once, commits nothing for the blocked record, and
// the partition's next owner handles it.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/retry.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::HandledRecords;

std::optional<int64_t> committed_offset(const std::string& group, const std::string& topic,
                                        int32_t partition) {
  AdminClient admin(AdminOptions{testing::test_cluster_options()});
  for (const auto& lag : admin.group_lag(group, {topic})) {
    if (lag.topic_partition.partition == partition) return lag.committed_offset;
  }
  return std::nullopt;
}

TEST(RetryRebalanceTest, ARevokeInterruptsABlockingBackOffAndTheNextOwnerGetsTheRecord) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 2;
  constexpr int kRecords = 20;  // record i on partition i % 2: offsets 0..9 on each
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("revoke-backoff");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  auto options = testing::test_consumer_options(topic, group);
  options.retry.default_policy = BlockingRetry{FixedBackOffs{{10min}}};
  // Longer than the test may take: only an interrupted wait lets the revoke finish.
  options.drain_timeout = 60s;
  options.retry.topic_settings.partitions = 1;
  const TopicPartition blocked_partition{topic, 0};

  HandledRecords handled_by_first;
  auto first = std::make_unique<Consumer>(options, [&](const Record& record) {
    if (record.partition == 0 && record.offset == 3) throw std::runtime_error("always fails");
    handled_by_first.add(record);
  });
  const auto blocked_since = Clock::now();
  bool blocked = false;
  while (!blocked && Clock::now() - blocked_since < 30s) {
    for (const auto& record : first->blocking_state().blocked) {
      blocked = blocked || (record.partition == blocked_partition && record.offset == 3);
    }
    if (!blocked) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(blocked) << "offset 3 of partition 0 never blocked";

  // A second member joins: the eager rebalance revokes everything from the
  // first, whose revoke must not wait out the back-off (or the drain timeout).
  HandledRecords handled_by_second;
  const auto joined = Clock::now();
  Consumer second(options, [&](const Record& record) { handled_by_second.add(record); });
  ASSERT_TRUE(second.wait_for_assignment(30s)) << "the rebalance did not finish";
  const auto rebalance_seconds = std::chrono::duration<double>(Clock::now() - joined).count();
  EXPECT_LT(rebalance_seconds, 20.0) << "the revoke waited for the back-off or the drain timeout";
  const auto committed = committed_offset(group, topic, 0);
  ASSERT_TRUE(committed.has_value());
  EXPECT_LE(*committed, 3) << "the blocked record was committed without being handled";

  // Whichever member owns partition 0 now, once the first leaves the second
  // owns it and handles the blocked record and everything after it.
  first->close(5s);
  first.reset();
  const auto ends = testing::end_offsets(cluster, topic);
  ASSERT_TRUE(handled_by_second.wait_for_count(1, 30s));
  bool all_of_partition_0 = false;
  const auto deadline = Clock::now() + 60s;
  while (!all_of_partition_0 && Clock::now() < deadline) {
    auto by_partition = handled_by_second.by_partition();
    std::set<int64_t> seen(by_partition[0].begin(), by_partition[0].end());
    all_of_partition_0 = true;
    for (int64_t offset = 3; offset < ends.at(0); ++offset) {
      all_of_partition_0 = all_of_partition_0 && seen.contains(offset);
    }
    if (!all_of_partition_0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(all_of_partition_0) << "the next owner did not handle offsets 3.. of partition 0";
  std::printf("[ revoke  ] rebalance with a blocked record took %.1f s; committed offset %lld\n",
              rebalance_seconds, static_cast<long long>(*committed));
}

}  // namespace
}  // namespace whippet
