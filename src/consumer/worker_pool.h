#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace whippet::consumer {

// A fixed set of threads running tasks in submission order. Dispatch
// strategies submit one task per runnable lane (a partition, a key), so a
// slow handler occupies one thread, never the poll thread.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  // Finishes the tasks already submitted, then joins.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> task);
  std::size_t size() const { return threads_.size(); }

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace whippet::consumer
