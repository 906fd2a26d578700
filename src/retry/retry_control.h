#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "consumer/partition_state.h"
#include "whippet/runtime.h"

namespace whippet::retry {

// Where waiting for a retry happens, so that revoke, shutdown and the
// operator's skip verbs end every wait at once. One per consumer; any thread.
class RetryControl {
 public:
  enum class WaitResult {
    kElapsed,   // the back-off passed: try again
    kStopping,  // the partition is being revoked or the consumer closes
    kSkip,      // an operator said to stop blocking on this record
  };

  // A blocking retry: shows the record as blocked while it waits.
  WaitResult wait_blocked(consumer::PartitionState& partition, int64_t offset, int attempt,
                          const std::string& error, std::chrono::milliseconds delay);
  // A wait that is not a blocked record (e.g. before re-sending a copy):
  // false when the partition stops meanwhile.
  bool wait(consumer::PartitionState& partition, std::chrono::milliseconds delay);
  // Waits until `done` returns true (checked under the control's lock; call
  // notify() after changing what it reads), or the partition stops.
  bool wait_until(consumer::PartitionState& partition, const std::function<bool()>& done);
  void notify();
  // The blocked record of the partition reached its outcome.
  void unblock(const TopicPartition& partition);

  // True when an operator said failures of this partition (or its topic)
  // go straight on instead of blocking.
  bool skipping(const TopicPartition& partition) const;

  // Operator verbs.
  // Releases the record blocked on `partition` once; kNotFound if none is.
  void skip_blocked(const TopicPartition& partition);
  void skip_failures(const TopicPartition& partition, bool skip);
  void skip_failures(const std::string& topic, bool skip);

  BlockingState state() const;
  std::optional<BlockedRecord> blocked(const TopicPartition& partition) const;

  // Ends every wait now and all future ones at once.
  void close();

 private:
  struct Blocked {
    int64_t offset = -1;
    int attempt = 0;
    std::chrono::steady_clock::time_point since;
    std::string error;
    bool skip = false;
  };
  bool skipping_locked(const TopicPartition& partition) const;
  // The partition's waits must end: it is being revoked, or the consumer
  // closes (and then the partition starts no more records).
  bool stopping_locked(consumer::PartitionState& partition) const;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<TopicPartition, Blocked> blocked_;
  std::set<TopicPartition> skipping_partitions_;
  std::set<std::string> skipping_topics_;
  bool closed_ = false;
};

}  // namespace whippet::retry
