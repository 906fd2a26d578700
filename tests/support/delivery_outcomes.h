#pragma once

// Collects the outcomes a producer's delivery callback gets, so that tests
// can wait for them and check there was exactly one per record.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "whippet/producer.h"

namespace whippet::testing {

class DeliveryOutcomes {
 public:
  DeliveryCallback callback() {
    return [this](const Result<RecordMetadata>& result) {
      std::lock_guard lock(mutex_);
      results_.push_back(result);
      changed_.notify_all();
    };
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return results_.size() >= count; });
  }
  std::vector<Result<RecordMetadata>> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Result<RecordMetadata>> results_;
};

}  // namespace whippet::testing
