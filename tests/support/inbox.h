#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "whippet/record.h"

namespace whippet::testing {

// Records a consumer handed over, for a test to wait on.
class Inbox {
 public:
  void add(const Record& record) {
    std::lock_guard lock(mutex_);
    records_.push_back(record);
    changed_.notify_all();
  }
  // The records so far, once there are `count` of them or the timeout passed.
  std::vector<Record> wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return records_.size() >= count; });
    return records_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Record> records_;
};

}  // namespace whippet::testing
