// A consumer process killed with SIGKILL mid-stream and restarted.

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/handled_log.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

std::map<int32_t, int64_t> committed_offsets(const std::string& group, const std::string& topic) {
  AdminOptions options;
  options.cluster = testing::test_cluster_options();
  AdminClient admin(options);
  std::map<int32_t, int64_t> committed;
  for (const auto& lag : admin.group_lag(group, {topic})) {
    committed[lag.topic_partition.partition] = lag.committed_offset.value_or(0);
  }
  return committed;
}

TEST(ConsumerCrashTest, SigkilledConsumerRestartsWithoutLossAndBoundedDuplicates) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kPartitions = 4;
  constexpr int kRecords = 20000;
  constexpr int kCommitIntervalMs = 200;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("crash");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, kPartitions);
  testing::produce_numbered(cluster, topic, kRecords, kPartitions);

  const std::string output = ::testing::TempDir() + testing::unique_name("handled") + ".log";
  const std::vector<std::string> arguments = {
      "--brokers", cluster.brokers, "--topic", topic, "--group", group, "--output", output,
      "--handler-delay-us", "500", "--commit-interval-ms", std::to_string(kCommitIntervalMs)};
  testing::HandledLog log(output);

  {
    testing::ChildProcess first(WHIPPET_TEST_HELPER_PATH, arguments);
    ASSERT_TRUE(log.wait_for_lines(kRecords / 4, 120s)) << log.lines() << " handled";
    first.kill_now();
  }
  const auto before_kill = log.read();
  const auto committed = committed_offsets(group, topic);
  std::size_t handled_before_kill = 0;
  for (const auto& [partition, offsets] : before_kill) handled_before_kill += offsets.size();
  ASSERT_LT(handled_before_kill, static_cast<std::size_t>(kRecords)) << "killed too late";

  testing::ChildProcess second(WHIPPET_TEST_HELPER_PATH, arguments);
  const auto ends = testing::end_offsets(cluster, topic);
  ASSERT_TRUE(log.wait_for_all(ends, 120s)) << log.lines() << " lines";
  EXPECT_EQ(second.terminate(30), 0);

  // Every record handled at least once; a record handled twice must lie in
  // the window between the last commit and the kill.
  std::size_t duplicates = 0;
  std::size_t window = 0;
  for (const auto& [partition, offsets] : log.read()) {
    std::map<int64_t, int> times;
    for (auto offset : offsets) ++times[offset];
    ASSERT_EQ(static_cast<int64_t>(times.size()), ends.at(partition));
    const int64_t last_commit = committed.at(partition);
    int64_t last_handled = last_commit - 1;
    if (before_kill.count(partition)) {
      for (auto offset : before_kill.at(partition)) last_handled = std::max(last_handled, offset);
    }
    window += static_cast<std::size_t>(last_handled + 1 - last_commit);
    for (const auto& [offset, count] : times) {
      if (count == 1) continue;
      duplicates += static_cast<std::size_t>(count - 1);
      EXPECT_GE(offset, last_commit) << "partition " << partition << " offset " << offset
                                     << " was committed yet handled again";
      EXPECT_LE(offset, last_handled) << "partition " << partition << " offset " << offset
                                      << " handled twice though never handled before the kill";
    }
  }
  EXPECT_LE(duplicates, window);
  // The window is what a commit interval of handling can leave uncommitted:
  // 4 partitions at about 2,000 records/s each for 200 ms, with slack.
  EXPECT_LE(window, 3000u) << "uncommitted window larger than the commit interval explains";
  std::printf("[ crash   ] handled before kill %zu, uncommitted window %zu, duplicates %zu\n",
              handled_before_kill, window, duplicates);
  std::remove(output.c_str());
}

}  // namespace
}  // namespace whippet
