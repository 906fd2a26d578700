#include "consumer/consumer_engine.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/thread_name.h"
#include "consumer/consumer_config.h"
#include "consumer/gap_codec.h"
#include "consumer/handler_decorators.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"
#include "kafka/record_conversion.h"
#include "retry/retry_headers.h"

namespace whippet::consumer {
namespace {

constexpr std::chrono::milliseconds kPollTimeout{100};
constexpr int kMaximumRecordsDrainedOnClose = 100000;
constexpr std::size_t kBatchSize = 1024;
// Spare records kept for refilling: a few poll rounds of small records.
constexpr std::size_t kSpareRecordBytes = 2 * 1024 * 1024;

std::vector<std::string> subscription_of(const ConsumerOptions& options,
                                         const retry::RetryTopology& topology) {
  std::vector<std::string> subscription = options.topics;
  if (!options.topic_pattern.empty()) {
    // librdkafka treats a subscription starting with '^' as a regex.
    const auto& pattern = options.topic_pattern;
    subscription = {pattern.starts_with('^') ? pattern : "^" + pattern};
  }
  for (const auto& topic : topology.retry_topics()) subscription.push_back(topic);
  return subscription;
}

// Parallel handlers drain a partition's queue parallelism times faster, so
// the queue must cover a refetch (tens of milliseconds) at that speed.
constexpr std::size_t kQueuedRecordsPerParallelHandler = 128;

QueueBound queue_bound(const ConsumerOptions& options) {
  QueueBound bound{options.max_queued_records_per_partition,
                   options.max_queued_bytes_per_partition, 0};
  if (const auto* parallel = std::get_if<KeyOrdered>(&options.dispatch)) {
    bound.records = std::max(bound.records, parallel->parallelism * kQueuedRecordsPerParallelHandler);
    // Large records: each handler still gets one running and one waiting.
    bound.min_records = std::min(bound.records, 2 * parallel->parallelism);
  }
  // A batch must be able to fill up by bytes while the next one queues.
  if (const auto* batched = std::get_if<Batched>(&options.dispatch)) {
    bound.bytes = std::max(bound.bytes, 2 * batched->max_bytes);
  }
  return bound;
}

std::size_t worker_count(const ConsumerOptions& options) {
  if (const auto* parallel = std::get_if<KeyOrdered>(&options.dispatch)) {
    return std::max<std::size_t>(1, parallel->parallelism);
  }
  return options.worker_threads;
}

}  // namespace

ConsumerEngine::ConsumerEngine(ConsumerOptions options, ResolvedCluster cluster, Handler handler,
                               BatchHandler batch_handler)
    : options_(std::move(options)), cluster_(std::move(cluster)),
      queue_bound_(queue_bound(options_)),
      retry_topology_(options_.retry, options_.group_id, options_.topics,
                      !options_.topic_pattern.empty()),
      recycler_(kSpareRecordBytes), drain_timeout_(options_.drain_timeout) {
  validate(options_);
  const bool batched = std::holds_alternative<Batched>(options_.dispatch);
  if (batched != static_cast<bool>(batch_handler) || batched == static_cast<bool>(handler)) {
    throw Error(ErrorCode::kInvalidConfig,
                batched ? "the batched dispatch mode needs a BatchHandler (records in a span)"
                        : "a BatchHandler needs the batched dispatch mode (options.dispatch = "
                          "Batched{...})",
                ErrorContext::of_group(options_.group_id));
  }
  failure_handler_ = std::make_unique<retry::FailureHandler>(
      retry::FailureHandlerOptions{options_.retry, options_.group_id,
                                   options_.handler_name.empty() ? options_.group_id
                                                                 : options_.handler_name,
                                   options_.cluster, options_.metrics},
      retry_topology_, retry_control_);
  failure_handler_->provision_topics();
  auto conf = kafka::build_conf(consumer_properties(options_, cluster_),
                                options_.cluster.librdkafka_properties);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &ConsumerEngine::rebalance_trampoline);
  rd_kafka_conf_set_opaque(conf.get(), this);
  handle_ = kafka::create_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(handle_.get()));

  workers_ = std::make_unique<WorkerPool>(worker_count(options_));
  DispatchContext context;
  context.workers = workers_.get();
  if (handler) context.handler = decorate(std::move(handler));
  context.batch_handler = std::move(batch_handler);
  context.failures = failure_handler_.get();
  context.wake_poll_thread = [this] { wake(); };
  context.counters = &counters_;
  context.recycler = &recycler_;
  strategy_ = make_dispatch_strategy(options_.dispatch, std::move(context));

  const auto topics = subscription_of(options_, retry_topology_);
  auto subscription = kafka::make_partition_list(static_cast<int>(topics.size()));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto err = rd_kafka_subscribe(handle_.get(), subscription.get())) {
    throw kafka::translate(err, "cannot subscribe", ErrorContext::of_group(options_.group_id));
  }
  next_commit_ = std::chrono::steady_clock::now() + options_.commit_interval;
  poll_thread_ = std::thread([this] { run(); });
}

ConsumerEngine::~ConsumerEngine() { close(options_.drain_timeout); }

void ConsumerEngine::close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(state_mutex_);
    if (closed_) return;
    closed_ = true;
  }
  drain_timeout_.store(std::min(timeout, options_.drain_timeout));
  stop_requested_.store(true);
  // Back-off waits end now: their records stay uncommitted for the next owner.
  retry_control_.close();
  wake();
  if (poll_thread_.joinable()) poll_thread_.join();
  // Every partition has been revoked: no task is left but those of handlers
  // that outlived their drain timeout, which the pool waits for.
  workers_.reset();
  strategy_.reset();
  failure_handler_->close();
  handle_.reset();
}

void ConsumerEngine::run() {
  common::name_this_thread("whippet:poll");
  while (!stop_requested_.load()) poll_once();
  {
    std::lock_guard lock(wake_mutex_);
    closing_ = true;
  }
  // rd_kafka_consumer_close returns early, without closing, when its wait is
  // interrupted by a yield; consume any wake-up still pending first. Records
  // fetched here are not dispatched, so not committed: a new owner gets them.
  for (int drained = 0; drained < kMaximumRecordsDrainedOnClose; ++drained) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(handle_.get(), 0));
    if (!message) break;
  }
  // Leaving the group revokes everything through on_rebalance, on this
  // thread: drain, commit what finished, then go.
  if (auto err = rd_kafka_consumer_close(handle_.get())) {
    spdlog::warn("consumer of group {} did not close cleanly: {}", options_.group_id,
                 rd_kafka_err2str(err));
  }
  for (auto& [partition, state] : partitions_) state->fence();
  lookup_cache_ = {};
  partitions_.clear();
  publish_assignment();
  std::lock_guard lock(wake_mutex_);
  consumer_queue_.reset();  // librdkafka requires queues gone before the handle
}

Handler ConsumerEngine::decorate(Handler handler) const {
  if (options_.metrics.enabled()) {
    handler = with_metrics(std::move(handler), options_.metrics, options_.group_id,
                           options_.handler_name.empty() ? options_.group_id
                                                         : options_.handler_name);
  }
  if (options_.propagate_trace_context) {
    handler = with_trace_context(std::move(handler), options_.context_headers);
  }
  return handler;
}

void ConsumerEngine::poll_once() {
  if (control_commands_waiting_.exchange(false)) run_control_commands();
  // Workers wake this thread when a paused partition drains, but the last
  // completions may land before the pause was marked: look every round too.
  if (resume_check_wanted_.exchange(false) || paused_partitions_ > 0 || has_parked_records_) {
    release_parked_records();
  }
  commit(false);
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kPollTimeout);
  if (auto due = time_until_next_due()) {
    timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(*due));
  }
  if (auto deadline = strategy_->next_deadline()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        *deadline - std::chrono::steady_clock::now());
    timeout = std::clamp(left, std::chrono::milliseconds::zero(), timeout);
  }
  kafka::MessageHandle message(
      rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count())));
  strategy_->on_tick(std::chrono::steady_clock::now());
  if (!message) return;
  // A topic handle's address may be reused once librdkafka frees it:
  // remember lookups within one round only.
  lookup_cache_ = {};
  // Take what else has arrived without waiting, so that records reach the
  // workers in batches: one hand-over per partition per round, not per record.
  std::array<rd_kafka_message_t*, kBatchSize> more{};
  const auto count = static_cast<std::size_t>(std::max<ssize_t>(
      rd_kafka_consume_batch_queue(consumer_queue_.get(), 0, more.data(), more.size()), 0));
  // Owned before any is handled, so that none leaks if handling throws.
  std::array<kafka::MessageHandle, kBatchSize> owned;
  for (std::size_t i = 0; i < count; ++i) owned[i].reset(more[i]);
  round_records_ = count + 1;
  handle_message(*message);
  message.reset();
  for (std::size_t i = 0; i < count; ++i) {
    handle_message(*owned[i]);
    owned[i].reset();
  }
  flush_dispatch_batches();
}

void ConsumerEngine::flush_dispatch_batches() {
  for (auto& batch : dispatch_batches_) {
    if (batch.records.empty()) continue;
    dispatch_records(batch.partition, std::move(batch.records));
  }
  dispatch_batches_.clear();
}

ConsumerEngine::DispatchBatch& ConsumerEngine::dispatch_batch_of(
    const std::shared_ptr<PartitionState>& partition) {
  for (auto& batch : dispatch_batches_) {
    if (batch.partition == partition) return batch;
  }
  // One look at the partition's load per round, not one per record (its
  // lock is the one the workers take): completions since only lower it, so
  // the look errs on the side of waiting.
  auto& batch = dispatch_batches_.emplace_back(
      DispatchBatch{partition, {}, {}, partition->admission()});
  // Fetches arrive in runs of one partition: room for twice a fair share of
  // the round spares most of the growing (each growth moves every record).
  const auto share = 2 * round_records_ / std::max<std::size_t>(1, partitions_.size());
  batch.records.reserve(std::min(round_records_, share + 8));
  return batch;
}

std::shared_ptr<PartitionState>* ConsumerEngine::partition_of(const rd_kafka_message_t& message) {
  // Consecutive records mostly come from one partition: the last lookup is
  // remembered, which spares building a key (a topic string) per record.
  if (lookup_cache_.partition != nullptr && lookup_cache_.topic == message.rkt &&
      lookup_cache_.partition_id == message.partition) {
    return lookup_cache_.partition;
  }
  auto found = partitions_.find(TopicPartition{rd_kafka_topic_name(message.rkt), message.partition});
  if (found == partitions_.end()) return nullptr;
  lookup_cache_ = {message.rkt, message.partition, &found->second};
  return &found->second;
}

void ConsumerEngine::handle_message(const rd_kafka_message_t& message) {
  if (message.err) {
    if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    const std::string topic = message.rkt ? rd_kafka_topic_name(message.rkt) : "";
    if (message.err == RD_KAFKA_RESP_ERR__FATAL) {
      char reason[512];
      rd_kafka_fatal_error(handle_.get(), reason, sizeof reason);
      fail(std::string("fatal consumer error: ") + reason);
      return;
    }
    spdlog::warn("consumer of group {}: {}{}", options_.group_id,
                 topic.empty() ? "" : "topic " + topic + ": ",
                 rd_kafka_message_errstr(&message));
    return;
  }
  auto* found = partition_of(message);
  if (found == nullptr) return;  // from an assignment already revoked
  auto& partition = *found;
  if (message.offset < partition->next_offset) return;  // seen already (a re-fetch)
  partition->next_offset = message.offset + 1;
  auto& batch = dispatch_batch_of(partition);
  auto record = recycler_.take();
  kafka::fill_record(message, record);
  const auto bytes = payload_bytes(record);
  if (!partition->parked.empty()) {
    park(*partition, std::move(record), bytes, WaitReason::kBackPressure);
    return;
  }
  if (auto reason = must_wait(*partition, record, batch.admission, batch.load);
      reason != WaitReason::kNone) {
    park(*partition, std::move(record), bytes, reason);
    return;
  }
  batch.records.push_back(std::move(record));
  batch.load.add(bytes);
}

void ConsumerEngine::dispatch_records(const std::shared_ptr<PartitionState>& partition,
                                      std::vector<Record> records) {
  partition->dispatched(records);
  if (partition->restored_gaps) {
    // A previous owner handled these already (its commit metadata says so).
    std::erase_if(records, [&](const Record& record) {
      if (!partition->handled_before(record.offset)) return false;
      partition->complete(record.offset);
      return true;
    });
    if (records.empty()) return;
  }
  strategy_->dispatch(partition, std::move(records));
}

std::optional<std::chrono::steady_clock::duration> ConsumerEngine::time_until_next_due() const {
  std::optional<std::chrono::system_clock::time_point> earliest;
  for (const auto& [key, partition] : partitions_) {
    if (partition->delayed_until && (!earliest || *partition->delayed_until < *earliest)) {
      earliest = partition->delayed_until;
    }
  }
  if (!earliest) return std::nullopt;
  return std::max(std::chrono::system_clock::duration::zero(),
                  *earliest - std::chrono::system_clock::now());
}

void ConsumerEngine::commit(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now < next_commit_) return;
  next_commit_ = now + options_.commit_interval;
  refresh_watermarks();
  std::vector<std::shared_ptr<PartitionState>> all;
  all.reserve(partitions_.size());
  for (auto& [key, partition] : partitions_) all.push_back(partition);
  commit_partitions(all);
}

void ConsumerEngine::commit_partitions(
    const std::vector<std::shared_ptr<PartitionState>>& partitions) {
  auto list = kafka::make_partition_list(static_cast<int>(partitions.size()));
  struct Pending {
    PartitionState* partition;
    std::string metadata;
  };
  std::map<TopicPartition, Pending> by_key;
  for (const auto& partition : partitions) {
    auto progress = partition->progress();
    if (progress.position < 0) continue;
    auto metadata = encode_gaps(progress.position, progress.handled_above);
    const auto last = partition->last_committed();
    if (last && *last >= progress.position && partition->committed_metadata_is(metadata)) continue;
    const auto& key = partition->topic_partition();
    auto* element = rd_kafka_topic_partition_list_add(list.get(), key.topic.c_str(), key.partition);
    element->offset = progress.position;
    if (!metadata.empty()) {
      // The list frees it with the element.
      element->metadata = std::malloc(metadata.size());
      std::memcpy(element->metadata, metadata.data(), metadata.size());
      element->metadata_size = metadata.size();
    }
    by_key[key] = {partition.get(), std::move(metadata)};
  }
  if (list->cnt == 0) return;
  const auto started = std::chrono::steady_clock::now();
  const auto err = rd_kafka_commit(handle_.get(), list.get(), 0);
  const bool succeeded = !err || err == RD_KAFKA_RESP_ERR__NO_OFFSET;
  options_.metrics.report(metrics::CommitCompleted{
      options_.group_id, std::chrono::steady_clock::now() - started, succeeded});
  if (!succeeded) {
    counters_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("commit for group {} failed, will retry: {}", options_.group_id,
                 rd_kafka_err2str(err));
    return;
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    if (element.err) {
      spdlog::warn("commit of {}-{} failed: {}", element.topic, element.partition,
                   rd_kafka_err2str(element.err));
      continue;
    }
    auto& committed = by_key[{element.topic, element.partition}];
    committed.partition->set_committed(element.offset, std::move(committed.metadata));
  }
  counters_.commits.fetch_add(1, std::memory_order_relaxed);
}

void ConsumerEngine::fail(const std::string& reason) {
  spdlog::error("consumer of group {} stopped: {}", options_.group_id, reason);
  {
    std::lock_guard lock(state_mutex_);
    failed_ = true;
    error_ = reason;
  }
  stop_requested_.store(true);
}

void ConsumerEngine::wake() {
  resume_check_wanted_.store(true);
  std::lock_guard lock(wake_mutex_);
  if (consumer_queue_ && !closing_) rd_kafka_queue_yield(consumer_queue_.get());
}

void ConsumerEngine::publish_assignment() {
  std::vector<TopicPartition> assignment;
  std::vector<std::shared_ptr<PartitionState>> published;
  assignment.reserve(partitions_.size());
  published.reserve(partitions_.size());
  for (const auto& [key, partition] : partitions_) {
    assignment.push_back(key);
    published.push_back(partition);
  }
  {
    std::lock_guard lock(state_mutex_);
    assignment_ = std::move(assignment);
    published_partitions_ = std::move(published);
  }
  assignment_changed_.notify_all();
}

bool ConsumerEngine::failed() const {
  std::lock_guard lock(state_mutex_);
  return failed_;
}

std::string ConsumerEngine::error() const {
  std::lock_guard lock(state_mutex_);
  return error_;
}

ConsumerStats ConsumerEngine::stats() const {
  ConsumerStats stats;
  stats.records_handled = counters_.records_handled.load();
  stats.handler_failures = counters_.handler_failures.load();
  stats.commits = counters_.commits.load();
  stats.rebalances = counters_.rebalances.load();
  stats.pauses = counters_.pauses.load();
  std::lock_guard lock(state_mutex_);
  stats.assignment = assignment_;
  return stats;
}

bool ConsumerEngine::wait_for_assignment(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_mutex_);
  return assignment_changed_.wait_for(lock, timeout, [this] { return !assignment_.empty(); });
}

}  // namespace whippet::consumer
