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
#include "whippet/metrics.h"
#include "whippet/record.h"
#include "whippet/retry.h"
#include "whippet/runtime.h"

namespace whippet {

// Where a group starts in a partition it has never committed to. Whippet
// commits that starting position at once, so a restart never skips records
// produced in between.
enum class InitialOffset { kEarliest, kLatest };

// Dispatch strategies: how records reach the handler. Plain data, so that
// they can come from YAML or over gRPC.
struct PartitionOrdered {};  // one record at a time per partition (default)

// Records of one key in offset order, different keys concurrently, up to
// `parallelism` handlers at once whatever the partition count. Records
// without a key run freely. Handled offsets above the committed one travel
// in the commit metadata, so a new owner skips them.
struct KeyOrdered {
  std::size_t parallelism = 64;
};

// The handler receives a partition's records as one batch, in offset order.
// A batch closes at max_records or max_bytes (of keys, values and headers), or once
// its first record has waited max_wait. Retry policies apply to the batch.
struct Batched {
  std::size_t max_records = 500;
  std::size_t max_bytes = 1 << 20;
  std::chrono::milliseconds max_wait{100};
};

using DispatchMode = std::variant<PartitionOrdered, KeyOrdered, Batched>;

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

  // Back-pressure: a partition with this many records, or this many payload
  // bytes (keys, values, headers), waiting for the workers parks what else
  // arrives; with as much parked it is paused, and resumed once less than
  // half of each remains parked. So a partition holds at most about twice
  // the bound in memory (plus librdkafka's own prefetch, bounded by
  // queued.max.messages.kbytes); one record always passes, however large.
  // Polling never stops meanwhile. Pausing costs a refetch (librdkafka 2.0.2
  // drops what it prefetched), so the record bound is generous for small
  // records and the byte bound takes over for large ones. In key-ordered
  // mode the record bound is at least 128 x parallelism, so parallel
  // handlers never wait for a refetch, and 2 x parallelism records pass
  // whatever their size; in batched mode the byte bound is at least two
  // batches' max_bytes.
  std::size_t max_queued_records_per_partition = 10000;
  std::size_t max_queued_bytes_per_partition = 4 << 20;

  // The committed offset advances at least this often.
  std::chrono::milliseconds commit_interval{1000};

  // On revoke and shutdown, how long in-flight handlers get to finish. A
  // partition that does not drain in time commits nothing more.
  std::chrono::milliseconds drain_timeout{10000};

  std::chrono::milliseconds session_timeout{45000};
  // Whippet polls regardless of handler speed, so this only bounds how long
  // the poll thread itself may stall.
  std::chrono::milliseconds max_poll_interval{300000};

  // Eager (range) by default: librdkafka 2.0.2's cooperative-sticky protocol
  // was seen to lose the assignment mid-rebalance (ILLEGAL_GENERATION on
  // commit), which turns clean hand-overs into replays. Both are supported.
  AssignmentStrategy assignment_strategy = AssignmentStrategy::kRange;

  // The name metrics and snapshots use for this consumer's handler; the
  // group id when empty.
  std::string handler_name;

  // What happens when the handler throws, per topic. Default: log and move on.
  RetryPolicies retry;

  // Where handler, commit and retry events go. Default: nowhere.
  metrics::MetricsReporter metrics;

  // Makes each record's W3C trace context (and these custom context headers,
  // e.g. "x-request-id") current while its handler runs, so records produced
  // by the handler continue the trace.
  bool propagate_trace_context = true;
  std::vector<std::string> context_headers;
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
  // For options.dispatch = Batched{...}: the handler gets a partition's
  // records together.
  Consumer(ConsumerOptions options, BatchHandler handler);
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

  // The runtime state of this consumer, safe to call from any thread.
  ConsumerSnapshot snapshot() const;

  // Control verbs, carried out on the poll thread: stop fetching a partition
  // until resumed (handlers already queued still run). Unknown partitions
  // throw Error(kNotFound).
  void pause(const TopicPartition& partition);
  void resume(const TopicPartition& partition);

  // Control verbs for blocking retries. A skipped record goes to the
  // dead-letter topic (nothing is lost) and its partition moves on.
  // Releases the record blocked on `partition` once; kNotFound if none is.
  void skip_blocked(const TopicPartition& partition);
  // From now on failures of this partition (or topic) do not block: they go
  // straight to the dead-letter topic, until block_on_failures.
  void skip_failures(const TopicPartition& partition);
  void skip_failures(const std::string& topic);
  void block_on_failures(const TopicPartition& partition);
  void block_on_failures(const std::string& topic);
  BlockingState blocking_state() const;

  // Blocks until the consumer owns at least one partition, or the timeout.
  bool wait_for_assignment(std::chrono::milliseconds timeout) const;

  const ResolvedCluster& cluster() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet
