#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consumer/consumer_counters.h"
#include "consumer/dispatch_strategy.h"
#include "consumer/partition_state.h"
#include "consumer/worker_pool.h"
#include "kafka/handles.h"
#include "retry/failure_handler.h"
#include "retry/retry_control.h"
#include "retry/retry_topology.h"
#include "whippet/consumer.h"

namespace whippet::consumer {

// The heart of the consumer. One poll thread owns the librdkafka handle:
// polling, dispatch, pause and resume, seeks, commits and the rebalance
// callback all run on it, so none of them needs a lock around the handle.
class ConsumerEngine {
 public:
  // Exactly one of the handlers is set: `batch_handler` for Batched mode.
  ConsumerEngine(ConsumerOptions options, ResolvedCluster cluster, Handler handler,
                 BatchHandler batch_handler = {});
  ~ConsumerEngine();
  ConsumerEngine(const ConsumerEngine&) = delete;
  ConsumerEngine& operator=(const ConsumerEngine&) = delete;

  void close(std::chrono::milliseconds timeout);

  bool failed() const;
  std::string error() const;
  ConsumerStats stats() const;
  ConsumerSnapshot snapshot() const;
  bool wait_for_assignment(std::chrono::milliseconds timeout) const;

  // Control verbs: queued for the poll thread, which owns the handle.
  void pause(const TopicPartition& partition);
  void resume(const TopicPartition& partition);
  retry::RetryControl& retry_control() { return retry_control_; }
  BlockingState blocking_state() const { return retry_control_.state(); }

 private:
  using PartitionMap = std::map<TopicPartition, std::shared_ptr<PartitionState>>;

  void run();
  void poll_once();
  void handle_message(const rd_kafka_message_t& message);
  void flush_dispatch_batches();
  struct DispatchBatch {
    std::shared_ptr<PartitionState> partition;
    std::vector<Record> records;
    QueueLoad load;                      // of `records`
    PartitionState::Admission admission;  // when the batch began
  };
  DispatchBatch& dispatch_batch_of(const std::shared_ptr<PartitionState>& partition);
  // The assigned partition a record belongs to, or null.
  std::shared_ptr<PartitionState>* partition_of(const rd_kafka_message_t& message);
  // Flow control: a record waits (parked, its partition paused in the
  // client) while back-pressure, the gap window, an operator hold or its
  // retry time says so.
  enum class WaitReason {
    kNone,
    kBackPressure,  // too many records queued for the workers
    kGapWindow,     // too far above the committable position for the commit metadata
    kHeld,          // operator hold or retry time: fetching more cannot help
  };
  // `admission` is the partition's load, not counting `batched`.
  WaitReason must_wait(PartitionState& partition, const Record& record,
                       const PartitionState::Admission& admission, const QueueLoad& batched);
  void park(PartitionState& partition, Record record, std::size_t bytes, WaitReason reason);
  void set_paused_in_client(PartitionState& partition, bool paused);
  void release_parked_records();
  void dispatch_records(const std::shared_ptr<PartitionState>& partition,
                        std::vector<Record> records);
  std::optional<std::chrono::steady_clock::duration> time_until_next_due() const;
  void commit(bool force);
  void commit_partitions(const std::vector<std::shared_ptr<PartitionState>>& partitions);

  static void rebalance_trampoline(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void revoke(rd_kafka_topic_partition_list_t* partitions);
  void set_starting_positions(rd_kafka_topic_partition_list_t* partitions);
  void restore_gaps(PartitionState& partition, int64_t committed, const std::string& metadata);
  void fail(const std::string& reason);
  void wake();
  void publish_assignment();
  void refresh_watermarks();
  void run_control_commands();
  void queue_hold(const TopicPartition& partition, bool held);
  void set_held(const TopicPartition& partition, bool held);
  Handler decorate(Handler handler) const;

  const ConsumerOptions options_;
  const ResolvedCluster cluster_;
  ConsumerCounters counters_;
  const QueueBound queue_bound_;  // per partition, see queue_bound()

  kafka::KafkaHandle handle_;
  kafka::QueueHandle consumer_queue_;  // to wake the poll thread
  std::mutex wake_mutex_;              // guards the two fields above and below
  bool closing_ = false;               // no more wake-ups: close must not be interrupted

  retry::RetryTopology retry_topology_;
  retry::RetryControl retry_control_;
  std::unique_ptr<retry::FailureHandler> failure_handler_;
  RecordRecycler recycler_;  // outlives the strategy and the workers that give back
  std::unique_ptr<DispatchStrategy> strategy_;
  std::unique_ptr<WorkerPool> workers_;

  // Poll thread only.
  PartitionMap partitions_;  // change only through assign() and revoke()
  struct LookupCache {
    const rd_kafka_topic_t* topic = nullptr;
    int32_t partition_id = -1;
    std::shared_ptr<PartitionState>* partition = nullptr;  // into partitions_
  };
  LookupCache lookup_cache_;  // reset whenever partitions_ changes
  std::vector<DispatchBatch> dispatch_batches_;
  std::size_t round_records_ = 0;  // messages taken in this poll round
  uint64_t next_epoch_ = 1;
  std::size_t paused_partitions_ = 0;  // in the client, for any reason
  bool has_parked_records_ = false;
  bool cooperative_ = false;
  std::chrono::steady_clock::time_point next_commit_;

  std::atomic<std::chrono::milliseconds> drain_timeout_;  // shortened by close()
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> resume_check_wanted_{false};
  std::atomic<bool> control_commands_waiting_{false};
  std::thread poll_thread_;

  mutable std::mutex state_mutex_;  // guards the fields below
  mutable std::condition_variable assignment_changed_;
  std::vector<TopicPartition> assignment_;
  std::vector<std::shared_ptr<PartitionState>> published_partitions_;
  std::vector<std::function<void()>> control_commands_;
  std::string error_;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace whippet::consumer
