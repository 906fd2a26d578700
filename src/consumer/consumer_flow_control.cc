// Part of ConsumerEngine: flow control on the poll thread. A record waits
// (parked, its partition paused in the client) while back-pressure, the gap
// window, an operator hold or its retry time says so.

#include <algorithm>

#include "consumer/consumer_engine.h"
#include "consumer/gap_codec.h"
#include "kafka/handles.h"
#include "retry/retry_headers.h"

namespace whippet::consumer {

ConsumerEngine::WaitReason ConsumerEngine::must_wait(PartitionState& partition,
                                                    const Record& record,
                                                    const PartitionState::Admission& admission,
                                                    const QueueLoad& batched) {
  if (partition.held_by_operator) return WaitReason::kHeld;
  const QueueLoad queued{admission.pending.records + batched.records,
                         admission.pending.bytes + batched.bytes};
  if (queue_bound_.reached_by(queued)) {
    if (!partition.paused()) {
      // Resume at half the bound: the workers still have records while
      // librdkafka fetches again.
      partition.mark_paused(queue_bound_.half());
      counters_.pauses.fetch_add(1, std::memory_order_relaxed);
    }
    return WaitReason::kBackPressure;
  }
  // The handled offsets above the committed one must fit the commit
  // metadata: past this window only the record holding the prefix back
  // may finish, so nothing new starts.
  if (admission.position >= 0 && record.offset - admission.position >= kMaxGapSpan) {
    partition.wake_when_position_advances();
    return WaitReason::kGapWindow;
  }
  if (partition.is_retry_topic) {
    if (auto due = retry::retry_due_time(record); due && *due > std::chrono::system_clock::now()) {
      partition.delayed_until = *due;
      return WaitReason::kHeld;
    }
    partition.delayed_until.reset();
  }
  return WaitReason::kNone;
}

void ConsumerEngine::park(PartitionState& partition, Record record, std::size_t bytes,
                          WaitReason reason) {
  partition.parked.push_back(std::move(record));
  partition.parked_bytes += bytes;
  has_parked_records_ = true;
  // Back-pressure and the gap window park up to a second queue's worth
  // before pausing the partition, and resume it while half of that is left:
  // librdkafka then refetches (tens of milliseconds) while the workers still
  // have records, so they never starve. Holds pause it at once.
  if (reason == WaitReason::kHeld ||
      queue_bound_.reached_by({partition.parked.size(), partition.parked_bytes})) {
    set_paused_in_client(partition, true);
  }
}

void ConsumerEngine::set_paused_in_client(PartitionState& partition, bool paused) {
  if (partition.paused_in_client == paused) return;
  partition.paused_in_client = paused;
  paused_partitions_ += paused ? 1 : -1;
  const auto& key = partition.topic_partition();
  auto list = kafka::make_partition_list(1);
  rd_kafka_topic_partition_list_add(list.get(), key.topic.c_str(), key.partition);
  // Pausing makes librdkafka fetch again from after the last record it
  // handed out, so what arrives until the pause takes effect is parked too.
  if (paused) {
    rd_kafka_pause_partitions(handle_.get(), list.get());
  } else {
    rd_kafka_resume_partitions(handle_.get(), list.get());
  }
}

void ConsumerEngine::release_parked_records() {
  has_parked_records_ = false;
  for (auto& [key, partition] : partitions_) {
    auto& parked = partition->parked;
    if (parked.empty() && !partition->paused_in_client) continue;
    if (partition->held_by_operator) {
      has_parked_records_ = has_parked_records_ || !parked.empty();
      continue;
    }
    auto reason = WaitReason::kNone;
    if (partition->paused()) {
      if (partition->resume_wanted()) {
        partition->mark_resumed();
      } else {
        reason = WaitReason::kBackPressure;
      }
    }
    std::vector<Record> released;
    QueueLoad released_load;
    std::size_t count = 0;
    const auto admission = partition->admission();
    while (reason == WaitReason::kNone && count < parked.size()) {
      reason = must_wait(*partition, parked[count], admission, released_load);
      if (reason == WaitReason::kNone) {
        released_load.add(payload_bytes(parked[count]));
        released.push_back(std::move(parked[count++]));
      }
    }
    parked.erase(parked.begin(), parked.begin() + static_cast<std::ptrdiff_t>(count));
    partition->parked_bytes -= released_load.bytes;
    if (!released.empty()) dispatch_records(partition, std::move(released));
    has_parked_records_ = has_parked_records_ || !parked.empty();
    const bool held = reason == WaitReason::kHeld && !parked.empty();
    if (partition->paused_in_client && !held &&
        !queue_bound_.half().reached_by({parked.size(), partition->parked_bytes})) {
      set_paused_in_client(*partition, false);
    }
  }
}

}  // namespace whippet::consumer
