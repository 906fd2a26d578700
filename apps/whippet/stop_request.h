#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace whippet::cli {

// A one-way latch a long-running command waits on: a signal, a handler that
// has seen enough records, or a deadline ends the wait. The first reason wins.
class StopRequest {
 public:
  void request(const std::string& reason) {
    {
      std::lock_guard lock(mutex_);
      if (!requested_) reason_ = reason;
      requested_ = true;
    }
    changed_.notify_all();
  }

  // True once a stop was requested; gives up after `timeout`.
  bool wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return requested_; });
  }

  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return requested_; });
  }

  bool requested() const {
    std::lock_guard lock(mutex_);
    return requested_;
  }

  std::string reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool requested_ = false;
  std::string reason_;
};

}  // namespace whippet::cli
