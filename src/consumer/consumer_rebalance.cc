// Part of ConsumerEngine: the rebalance callback (assign, revoke), run on the poll thread.

#include <algorithm>
#include <string_view>

#include <spdlog/spdlog.h>

#include "consumer/consumer_engine.h"
#include "consumer/gap_codec.h"
#include "kafka/error_translation.h"

namespace whippet::consumer {

void ConsumerEngine::rebalance_trampoline(rd_kafka_t* /*handle*/, rd_kafka_resp_err_t err,
                                          rd_kafka_topic_partition_list_t* partitions,
                                          void* opaque) {
  auto* engine = static_cast<ConsumerEngine*>(opaque);
  try {
    engine->on_rebalance(err, partitions);
  } catch (const std::exception& error) {
    engine->fail(std::string("rebalance failed: ") + error.what());
  } catch (...) {
    engine->fail("rebalance failed with a non-standard exception");
  }
}

void ConsumerEngine::on_rebalance(rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions) {
  cooperative_ = std::string_view(rd_kafka_rebalance_protocol(handle_.get())) == "COOPERATIVE";
  lookup_cache_ = {};  // partitions_ changes below
  counters_.rebalances.fetch_add(1, std::memory_order_relaxed);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revoke(partitions);
  } else {
    spdlog::error("rebalance error for group {}: {}", options_.group_id, rd_kafka_err2str(err));
    revoke(partitions);
  }
  publish_assignment();
}

void ConsumerEngine::assign(rd_kafka_topic_partition_list_t* partitions) {
  set_starting_positions(partitions);
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& element = partitions->elems[i];
    TopicPartition key{element.topic, element.partition};
    auto state = std::make_shared<PartitionState>(key, next_epoch_++, element.offset);
    std::string metadata;
    if (element.metadata != nullptr && element.metadata_size > 0) {
      metadata.assign(static_cast<const char*>(element.metadata), element.metadata_size);
    }
    if (element.offset >= 0 && element.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      restore_gaps(*state, element.offset, metadata);
      state->set_committed(element.offset, metadata);
    }
    state->is_retry_topic = retry_topology_.is_retry_topic(key.topic);
    partitions_[key] = std::move(state);
  }
  if (cooperative_) {
    if (kafka::ErrorHandle error{rd_kafka_incremental_assign(handle_.get(), partitions)}) {
      throw kafka::translate(error.get(), "incremental assign failed", ErrorContext::of_group(options_.group_id));
    }
  } else if (auto err = rd_kafka_assign(handle_.get(), partitions)) {
    throw kafka::translate(err, "assign failed", ErrorContext::of_group(options_.group_id));
  }
  spdlog::info("group {}: assigned {} partition(s)", options_.group_id, partitions->cnt);
}

void ConsumerEngine::restore_gaps(PartitionState& partition, int64_t committed,
                                  const std::string& metadata) {
  if (metadata.empty()) return;
  auto decoded = decode_gaps(committed, metadata);
  if (!decoded.ok()) {
    spdlog::warn("group {}: ignoring the commit metadata of {} ({}); records above offset {} "
                 "will be handled again",
                 options_.group_id, to_string(partition.topic_partition()), decoded.problem,
                 committed);
    return;
  }
  if (decoded.handled.empty()) return;
  spdlog::info("group {}: {} has {} record(s) above offset {} handled by a previous owner; "
               "skipping them",
               options_.group_id, to_string(partition.topic_partition()), decoded.handled.size(),
               committed);
  partition.restore_handled(std::move(decoded.handled));
  partition.restored_gaps = true;
}

void ConsumerEngine::set_starting_positions(rd_kafka_topic_partition_list_t* partitions) {
  const int timeout_ms = static_cast<int>(options_.cluster.request_timeout.count());
  if (auto err = rd_kafka_committed(handle_.get(), partitions, timeout_ms)) {
    // Let librdkafka look the committed offsets up itself when fetching.
    spdlog::warn("group {}: cannot read committed offsets ({}); starting from them lazily",
                 options_.group_id, rd_kafka_err2str(err));
    for (int i = 0; i < partitions->cnt; ++i) partitions->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    return;
  }
  // Partitions this group never committed to: find the initial position and
  // commit it now, so records produced before the first commit are not
  // skipped by a `latest` restart.
  auto fresh = kafka::make_partition_list(partitions->cnt);
  const auto logical = options_.initial_offset == InitialOffset::kEarliest
                           ? RD_KAFKA_OFFSET_BEGINNING
                           : RD_KAFKA_OFFSET_END;
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& element = partitions->elems[i];
    element.err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (element.offset >= 0) continue;
    rd_kafka_topic_partition_list_add(fresh.get(), element.topic, element.partition)->offset =
        logical;
  }
  if (fresh->cnt == 0) return;
  // A logical timestamp of -2 / -1 asks ListOffsets for the earliest / latest offset.
  if (auto err = rd_kafka_offsets_for_times(handle_.get(), fresh.get(), timeout_ms)) {
    spdlog::warn("group {}: cannot look up initial offsets ({}); using auto.offset.reset",
                 options_.group_id, rd_kafka_err2str(err));
    return;
  }
  auto committed = rd_kafka_commit(handle_.get(), fresh.get(), 0);
  for (int i = 0; i < fresh->cnt; ++i) {
    const auto& found = fresh->elems[i];
    auto* target = rd_kafka_topic_partition_list_find(partitions, found.topic, found.partition);
    if (target == nullptr || found.err || found.offset < 0) continue;
    target->offset = found.offset;
    // Marks whether the starting position is known to be committed.
    target->err = committed ? RD_KAFKA_RESP_ERR__NO_OFFSET : RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  if (committed) {
    spdlog::warn("group {}: cannot commit initial positions ({}); will retry", options_.group_id,
                 rd_kafka_err2str(committed));
  }
}

void ConsumerEngine::revoke(rd_kafka_topic_partition_list_t* partitions) {
  const bool lost = rd_kafka_assignment_lost(handle_.get()) != 0;
  std::vector<std::shared_ptr<PartitionState>> revoked;
  auto paused = kafka::make_partition_list(1);
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& element = partitions->elems[i];
    auto found = partitions_.find({element.topic, element.partition});
    if (found == partitions_.end()) continue;
    found->second->stop_starting();
    strategy_->remove(*found->second);
    if (found->second->paused_in_client) {
      --paused_partitions_;
      rd_kafka_topic_partition_list_add(paused.get(), element.topic, element.partition);
    }
    revoked.push_back(found->second);
    partitions_.erase(found);
  }
  // Blocking retries and copies waiting on these partitions give up now.
  retry_control_.notify();
  if (lost) {
    spdlog::warn("group {}: {} partition(s) lost; their progress is not committed",
                 options_.group_id, revoked.size());
  } else {
    const auto drain_timeout = drain_timeout_.load();
    const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    std::vector<std::shared_ptr<PartitionState>> drained;
    for (auto& partition : revoked) {
      if (partition->wait_until_idle(deadline)) {
        drained.push_back(partition);
      } else {
        spdlog::warn("group {}: {} did not drain within {} ms; committing nothing more for it",
                     options_.group_id, to_string(partition->topic_partition()),
                     drain_timeout.count());
      }
    }
    commit_partitions(drained);
  }
  for (auto& partition : revoked) partition->fence();
  // A partition unassigned while paused would otherwise stay paused when it
  // comes back to this member.
  if (paused->cnt > 0) rd_kafka_resume_partitions(handle_.get(), paused.get());
  if (cooperative_) {
    if (kafka::ErrorHandle error{rd_kafka_incremental_unassign(handle_.get(), partitions)}) {
      spdlog::error("group {}: incremental unassign failed: {}", options_.group_id,
                    rd_kafka_error_string(error.get()));
    }
  } else {
    rd_kafka_assign(handle_.get(), nullptr);
  }
  spdlog::info("group {}: revoked {} partition(s)", options_.group_id, revoked.size());
}

}  // namespace whippet::consumer
