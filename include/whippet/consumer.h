#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "whippet/cluster.h"
#include "whippet/handler.h"
#include "whippet/record.h"

namespace whippet {

// Where a group starts in a partition it has never committed to. Whippet
// commits that starting position at once, so a restart never skips records
// produced in between.
enum class InitialOffset { kEarliest, kLatest };

// Dispatch strategies: how records reach the handler. Plain data, so that
// they can come from YAML or over gRPC.
struct PartitionOrdered {};  // one record at a time per partition (default)

using DispatchMode = std::variant<PartitionOrdered>;

enum class AssignmentStrategy { kCooperativeSticky, kRange, kRoundRobin };

struct ConsumerOptions {
  ClusterOptions cluster;

  // Required: the consumer group. Members of one group split the partitions.
  std::string group_id;

  // What to read: topic names, or a regular expression (POSIX extended, matched
  // against whole topic names) such as "orders-.*". Exactly one of the two.
  std::vector<std::string> topics;
  std::string topic_pattern;

  InitialOffset initial_offset = InitialOffset::kLatest;
  DispatchMode dispatch = PartitionOrdered{};

  // Threads that run handlers, shared by all partitions.
  std::size_t worker_threads = 4;

  // Back-pressure: a partition with this many records waiting is paused, and
  // resumed once fewer than half remain. Polling never stops meanwhile.
  std::size_t max_queued_records_per_partition = 1000;

  // The committed offset advances at least this often.
  std::chrono::milliseconds commit_interval{1000};

  // On revoke and shutdown, how long in-flight handlers get to finish. A
  // partition that does not drain in time commits nothing more.
  std::chrono::milliseconds drain_timeout{10000};

  std::chrono::milliseconds session_timeout{45000};
  // Whippet polls regardless of handler speed, so this only bounds how long
  // the poll thread itself may stall.
  std::chrono::milliseconds max_poll_interval{300000};

  AssignmentStrategy assignment_strategy = AssignmentStrategy::kCooperativeSticky;
};

// Counters for tests and dashboards; the full runtime snapshot builds on it.
struct ConsumerStats {
  std::uint64_t records_handled = 0;
  std::uint64_t handler_failures = 0;
  std::uint64_t commits = 0;
  std::uint64_t rebalances = 0;
  std::uint64_t pauses = 0;
  std::vector<TopicPartition> assignment;
};

// Consumes its topics on a poll thread of its own and runs the handler on a
// worker pool, at least once per record. Construction starts it.
class Consumer {
 public:
  Consumer(ConsumerOptions options, Handler handler);
  // Equivalent to close(drain_timeout).
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Stops fetching, lets in-flight handlers finish (up to the timeout),
  // commits what finished and leaves the group. Idempotent.
  void close(std::chrono::milliseconds timeout);

  // True once the consumer has stopped on a fatal error (e.g. the group was
  // fenced or authentication failed); error() says why.
  bool failed() const;
  std::string error() const;

  ConsumerStats stats() const;

  // Blocks until the consumer owns at least one partition, or the timeout.
  bool wait_for_assignment(std::chrono::milliseconds timeout) const;

  const ResolvedCluster& cluster() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet
