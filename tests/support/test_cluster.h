#pragma once

#include "whippet/consumer.h"

// Helpers shared by the test tiers: finding the broker under test, unique
// names, topics, numbered records and waiting with deadlines.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "whippet/cluster.h"
#include "whippet/record.h"

namespace whippet::testing {

// The real broker under test (WHIPPET_TEST_BROKERS), or empty.
std::string test_brokers();

// Integration tests need a broker. Without one they are skipped, unless
// WHIPPET_REQUIRE_BROKER=1 (set by scripts/test and CI), where a missing
// broker is a failure rather than a silent skip.
#define WHIPPET_REQUIRE_BROKER()                                                  \
  do {                                                                            \
    if (::whippet::testing::test_brokers().empty()) {                             \
      if (::whippet::testing::broker_required()) {                                \
        FAIL() << "WHIPPET_TEST_BROKERS is not set; run through scripts/test";    \
      }                                                                           \
      GTEST_SKIP() << "WHIPPET_TEST_BROKERS is not set";                          \
    }                                                                             \
  } while (false)

bool broker_required();

ClusterOptions test_cluster_options();

// A consumer of `topic` on the broker under test, tuned for quick tests:
// from the earliest offset, 200 ms commits, a 6 s session timeout.
ConsumerOptions test_consumer_options(const std::string& topic, const std::string& group);

// A name no other test (or earlier run) uses.
std::string unique_name(std::string_view prefix);

void create_topic(const ClusterOptions& cluster, const std::string& topic, int partitions);

// Produces records 0..count-1: record i goes to partition i % partitions,
// keyed "key-<i % keys>", with value "<i>". Throws if any delivery fails.
void produce_numbered(const ClusterOptions& cluster, const std::string& topic, int count,
                      int partitions, int keys = 1000);

// Records seen by a handler, safe to fill from many threads and to wait on.
class HandledRecords {
 public:
  void add(const Record& record);
  std::size_t count() const;
  // Waits until at least `count` records were added; false on timeout.
  bool wait_for_count(std::size_t count, std::chrono::milliseconds timeout) const;
  // Waits until every offset below `end` of each partition was seen (the
  // topics under test are never compacted, so offsets are consecutive).
  bool wait_for_all(const std::map<int32_t, int64_t>& end_offsets,
                    std::chrono::milliseconds timeout) const;
  // Offsets handled per partition, in the order they were handled.
  std::map<int32_t, std::vector<int64_t>> by_partition() const;

 private:
  bool has_all(const std::map<int32_t, int64_t>& end_offsets) const;

  mutable std::mutex mutex_;
  mutable std::condition_variable added_;
  std::size_t count_ = 0;
  std::map<int32_t, std::vector<int64_t>> offsets_;
  std::map<int32_t, std::set<int64_t>> distinct_;
};

// The end offset of each partition of `topic`.
std::map<int32_t, int64_t> end_offsets(const ClusterOptions& cluster, const std::string& topic);

// Controls the test broker through scripts/kafka (WHIPPET_KAFKA_SCRIPT and
// WHIPPET_TEST_CLUSTER say which script and cluster).
void run_broker_command(const std::string& verb);

}  // namespace whippet::testing
