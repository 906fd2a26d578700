#include "consumer/consumer_engine.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <spdlog/spdlog.h>

#include "consumer/consumer_config.h"
#include "consumer/handler_decorators.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"
#include "kafka/record_conversion.h"

namespace whippet::consumer {
namespace {

constexpr std::chrono::milliseconds kPollTimeout{100};
constexpr int kMaximumRecordsDrainedOnClose = 100000;
constexpr std::size_t kBatchSize = 1024;

std::vector<std::string> subscription_of(const ConsumerOptions& options) {
  if (options.topic_pattern.empty()) return options.topics;
  // librdkafka treats a subscription starting with '^' as a regex.
  const auto& pattern = options.topic_pattern;
  return {pattern.starts_with('^') ? pattern : "^" + pattern};
}

}  // namespace

ConsumerEngine::ConsumerEngine(ConsumerOptions options, ResolvedCluster cluster, Handler handler)
    : options_(std::move(options)), cluster_(std::move(cluster)),
      drain_timeout_(options_.drain_timeout) {
  validate(options_);
  auto conf = kafka::build_conf(consumer_properties(options_, cluster_),
                                options_.cluster.librdkafka_properties);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &ConsumerEngine::rebalance_trampoline);
  rd_kafka_conf_set_opaque(conf.get(), this);
  handle_ = kafka::create_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(handle_.get()));

  workers_ = std::make_unique<WorkerPool>(options_.worker_threads);
  strategy_ = make_dispatch_strategy(
      options_.dispatch, DispatchContext{workers_.get(), decorate(std::move(handler)),
                                         [this] { wake(); }, &counters_});

  const auto topics = subscription_of(options_);
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
  wake();
  if (poll_thread_.joinable()) poll_thread_.join();
  // Every partition has been revoked: no task is left but those of handlers
  // that outlived their drain timeout, which the pool waits for.
  workers_.reset();
  strategy_.reset();
  handle_.reset();
}

void ConsumerEngine::run() {
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
  if (resume_check_wanted_.exchange(false) || paused_partitions_ > 0) resume_ready_partitions();
  commit(false);
  kafka::MessageHandle message(
      rd_kafka_consumer_poll(handle_.get(), static_cast<int>(kPollTimeout.count())));
  if (!message) return;
  handle_message(*message);
  // Take what else has arrived without waiting, so that records reach the
  // workers in batches: one hand-over per partition per round, not per record.
  std::array<rd_kafka_message_t*, kBatchSize> more{};
  const auto count = rd_kafka_consume_batch_queue(consumer_queue_.get(), 0, more.data(), more.size());
  for (ssize_t i = 0; i < count; ++i) {
    kafka::MessageHandle owned(more[static_cast<std::size_t>(i)]);
    handle_message(*owned);
  }
  flush_dispatch_batches();
}

void ConsumerEngine::flush_dispatch_batches() {
  for (auto& batch : dispatch_batches_) {
    if (batch.records.empty()) continue;
    batch.partition->dispatched(batch.records);
    strategy_->dispatch(batch.partition, std::move(batch.records));
  }
  dispatch_batches_.clear();
}

std::vector<Record>& ConsumerEngine::dispatch_batch_of(
    const std::shared_ptr<PartitionState>& partition) {
  for (auto& batch : dispatch_batches_) {
    if (batch.partition == partition) return batch.records;
  }
  return dispatch_batches_.push_back({partition, {}}), dispatch_batches_.back().records;
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
  const TopicPartition key{rd_kafka_topic_name(message.rkt), message.partition};
  auto found = partitions_.find(key);
  if (found == partitions_.end()) return;  // from an assignment already revoked
  auto& partition = found->second;
  if (message.offset < partition->next_offset) return;  // seen already (a re-fetch)
  partition->next_offset = message.offset + 1;
  auto& batch = dispatch_batch_of(partition);
  if (!partition->paused() &&
      partition->pending() + batch.size() >= options_.max_queued_records_per_partition) {
    pause_for_back_pressure(*partition);
  }
  if (partition->paused()) {
    // Pausing makes librdkafka fetch again from after the last record it
    // handed out, so what arrives until then is kept here, not dropped.
    partition->parked.push_back(kafka::to_record(message));
    return;
  }
  batch.push_back(kafka::to_record(message));
}

void ConsumerEngine::pause_for_back_pressure(PartitionState& partition) {
  const auto& key = partition.topic_partition();
  // Marked first, so that workers completing records from now on see it.
  const auto resume_below = std::max<std::size_t>(1, options_.max_queued_records_per_partition / 2);
  partition.mark_paused(resume_below);
  ++paused_partitions_;
  counters_.pauses.fetch_add(1, std::memory_order_relaxed);
  auto list = kafka::make_partition_list(1);
  rd_kafka_topic_partition_list_add(list.get(), key.topic.c_str(), key.partition);
  rd_kafka_pause_partitions(handle_.get(), list.get());
}

void ConsumerEngine::resume_ready_partitions() {
  auto list = kafka::make_partition_list(4);
  for (auto& [key, partition] : partitions_) {
    if (!partition->paused() || !partition->resume_wanted()) continue;
    partition->mark_resumed();
    --paused_partitions_;
    if (!partition->parked.empty()) {
      partition->dispatched(partition->parked);
      strategy_->dispatch(partition, std::move(partition->parked));
      partition->parked.clear();
    }
    if (partition->held_by_operator) continue;  // stays paused until the operator resumes it
    rd_kafka_topic_partition_list_add(list.get(), key.topic.c_str(), key.partition);
  }
  if (list->cnt > 0) rd_kafka_resume_partitions(handle_.get(), list.get());
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
  std::map<TopicPartition, PartitionState*> by_key;
  for (const auto& partition : partitions) {
    const auto position = partition->committable_position();
    if (position < 0) continue;
    const auto last = partition->last_committed();
    if (last && *last >= position) continue;
    const auto& key = partition->topic_partition();
    rd_kafka_topic_partition_list_add(list.get(), key.topic.c_str(), key.partition)->offset =
        position;
    by_key[key] = partition.get();
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
    by_key[{element.topic, element.partition}]->set_committed(element.offset);
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
