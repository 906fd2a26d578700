#include "retry/retry_control.h"

#include "whippet/error.h"

namespace whippet::retry {

RetryControl::WaitResult RetryControl::wait_blocked(consumer::PartitionState& partition,
                                                    int64_t offset, int attempt,
                                                    const std::string& error,
                                                    std::chrono::milliseconds delay) {
  const auto& key = partition.topic_partition();
  const auto deadline = std::chrono::steady_clock::now() + delay;
  std::unique_lock lock(mutex_);
  auto [entry, fresh] = blocked_.try_emplace(key);
  if (fresh || entry->second.offset != offset) {
    entry->second = Blocked{offset, attempt, std::chrono::steady_clock::now(), error, false};
  } else {
    entry->second.attempt = attempt;
    entry->second.error = error;
  }
  WaitResult result = WaitResult::kElapsed;
  changed_.wait_until(lock, deadline, [&] {
    if (stopping_locked(partition)) {
      result = WaitResult::kStopping;
    } else if (blocked_[key].skip || skipping_locked(key)) {
      result = WaitResult::kSkip;
    } else {
      return false;
    }
    return true;
  });
  // Still blocked between attempts unless this is the end of it.
  if (result != WaitResult::kElapsed) blocked_.erase(key);
  return result;
}

bool RetryControl::wait(consumer::PartitionState& partition, std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, delay, [&] { return stopping_locked(partition); });
}

bool RetryControl::wait_until(consumer::PartitionState& partition,
                              const std::function<bool()>& done) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return done() || stopping_locked(partition); });
  return done();
}

bool RetryControl::stopping_locked(consumer::PartitionState& partition) const {
  if (!closed_) return partition.stopping();
  // The consumer closes before its partitions are revoked. The record whose
  // wait ends here stays unhandled, so nothing after it may start meanwhile:
  // that would run it out of order, and the revoke would commit it as a gap
  // above the unhandled record.
  partition.stop_starting();
  return true;
}

void RetryControl::notify() {
  { std::lock_guard lock(mutex_); }
  changed_.notify_all();
}

void RetryControl::unblock(const TopicPartition& partition) {
  std::lock_guard lock(mutex_);
  blocked_.erase(partition);
}

bool RetryControl::skipping(const TopicPartition& partition) const {
  std::lock_guard lock(mutex_);
  return skipping_locked(partition);
}

bool RetryControl::skipping_locked(const TopicPartition& partition) const {
  return skipping_partitions_.contains(partition) || skipping_topics_.contains(partition.topic);
}

void RetryControl::skip_blocked(const TopicPartition& partition) {
  {
    std::lock_guard lock(mutex_);
    auto found = blocked_.find(partition);
    if (found == blocked_.end()) {
      throw Error(ErrorCode::kNotFound,
                  "no record is blocked on " + to_string(partition) + ": nothing to skip",
                  ErrorContext::of_topic(partition.topic, partition.partition));
    }
    found->second.skip = true;
  }
  changed_.notify_all();
}

void RetryControl::skip_failures(const TopicPartition& partition, bool skip) {
  {
    std::lock_guard lock(mutex_);
    if (skip) {
      skipping_partitions_.insert(partition);
    } else {
      skipping_partitions_.erase(partition);
    }
  }
  changed_.notify_all();
}

void RetryControl::skip_failures(const std::string& topic, bool skip) {
  {
    std::lock_guard lock(mutex_);
    if (skip) {
      skipping_topics_.insert(topic);
    } else {
      skipping_topics_.erase(topic);
      // "Back to blocking" for a topic covers its partitions too.
      std::erase_if(skipping_partitions_, [&](const auto& p) { return p.topic == topic; });
    }
  }
  changed_.notify_all();
}

BlockingState RetryControl::state() const {
  BlockingState state;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  for (const auto& [key, entry] : blocked_) {
    state.blocked.push_back({key, entry.offset, entry.attempt,
                             std::chrono::duration<double>(now - entry.since).count(),
                             entry.error});
  }
  state.skipping_partitions.assign(skipping_partitions_.begin(), skipping_partitions_.end());
  state.skipping_topics.assign(skipping_topics_.begin(), skipping_topics_.end());
  return state;
}

std::optional<BlockedRecord> RetryControl::blocked(const TopicPartition& partition) const {
  std::lock_guard lock(mutex_);
  auto found = blocked_.find(partition);
  if (found == blocked_.end()) return std::nullopt;
  return BlockedRecord{partition, found->second.offset, found->second.attempt,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                     found->second.since)
                           .count(),
                       found->second.error};
}

void RetryControl::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

}  // namespace whippet::retry
