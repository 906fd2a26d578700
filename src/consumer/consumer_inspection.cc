// Part of ConsumerEngine: snapshots and control verbs, callable from any thread.

#include <algorithm>
#include <string_view>

#include <spdlog/spdlog.h>

#include "consumer/consumer_engine.h"
#include "kafka/error_translation.h"

namespace whippet::consumer {

void ConsumerEngine::refresh_watermarks() {
  for (auto& [key, partition] : partitions_) {
    int64_t low = -1;
    int64_t high = -1;
    // Cached from fetch responses: no request to the broker.
    if (rd_kafka_get_watermark_offsets(handle_.get(), key.topic.c_str(), key.partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      partition->set_high_watermark(high);
    }
  }
}

ConsumerSnapshot ConsumerEngine::snapshot() const {
  ConsumerSnapshot snapshot;
  snapshot.group = options_.group_id;
  snapshot.handler = options_.handler_name.empty() ? options_.group_id : options_.handler_name;
  snapshot.topics = options_.topics;
  snapshot.topic_pattern = options_.topic_pattern;
  snapshot.records_handled = counters_.records_handled.load();
  snapshot.handler_failures = counters_.handler_failures.load();
  snapshot.commits = counters_.commits.load();
  snapshot.commit_failures = counters_.commit_failures.load();
  snapshot.rebalances = counters_.rebalances.load();
  std::vector<std::shared_ptr<PartitionState>> partitions;
  {
    std::lock_guard lock(state_mutex_);
    partitions = published_partitions_;
    snapshot.state = failed_ ? "failed" : closed_ ? "closed" : "running";
    snapshot.error = error_;
  }
  const auto now = PartitionState::Clock::now();
  const auto now_epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  for (const auto& partition : partitions) {
    auto partition_snapshot = partition->snapshot(now, now_epoch_ms);
    if (auto blocked = retry_control_.blocked(partition->topic_partition())) {
      partition_snapshot.blocked_offset = blocked->offset;
      partition_snapshot.blocked_attempt = blocked->attempt;
    }
    snapshot.partitions.push_back(std::move(partition_snapshot));
  }
  return snapshot;
}

void ConsumerEngine::pause(const TopicPartition& partition) { queue_hold(partition, true); }

void ConsumerEngine::resume(const TopicPartition& partition) { queue_hold(partition, false); }

void ConsumerEngine::queue_hold(const TopicPartition& partition, bool held) {
  {
    std::lock_guard lock(state_mutex_);
    if (std::find(assignment_.begin(), assignment_.end(), partition) == assignment_.end()) {
      throw Error(ErrorCode::kNotFound,
                  std::string("cannot ") + (held ? "pause " : "resume ") + to_string(partition) +
                      ": not assigned to this consumer",
                  ErrorContext::of_topic(partition.topic, partition.partition));
    }
    control_commands_.push_back([this, partition, held] { set_held(partition, held); });
  }
  control_commands_waiting_.store(true);
  wake();
}

void ConsumerEngine::run_control_commands() {
  std::vector<std::function<void()>> commands;
  {
    std::lock_guard lock(state_mutex_);
    commands.swap(control_commands_);
  }
  for (auto& command : commands) command();
}

void ConsumerEngine::set_held(const TopicPartition& key, bool held) {
  auto found = partitions_.find(key);
  if (found == partitions_.end()) return;  // revoked meanwhile
  auto& partition = *found->second;
  if (partition.held_by_operator == held) return;
  partition.held_by_operator = held;
  // Holding pauses at once; releasing lets the next round dispatch what was
  // parked and resume the partition unless something else still holds it.
  if (held) set_paused_in_client(partition, true);
  resume_check_wanted_.store(true);
  spdlog::info("group {}: {} {} by operator", options_.group_id, to_string(key),
               held ? "paused" : "resumed");
}

}  // namespace whippet::consumer
