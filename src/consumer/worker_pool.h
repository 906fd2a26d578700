#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace whippet::consumer {

// A set of threads running tasks in submission order. Dispatch strategies
// submit one task per runnable lane (a partition, a key), so a slow handler
// occupies one thread, never the poll thread.
class WorkerPool {
 public:
  // Marks the calling task as waiting a long time (a blocking retry's
  // back-off) for its lifetime: the pool then starts a spare thread, so that
  // the other lanes keep their full share of threads. Spares stay for later
  // waits; there are never more than the waits that overlapped. Does
  // nothing outside a pool's thread.
  class LongWait {
   public:
    LongWait();
    ~LongWait();
    LongWait(const LongWait&) = delete;
    LongWait& operator=(const LongWait&) = delete;

   private:
    WorkerPool* pool_;
  };

  explicit WorkerPool(std::size_t threads);
  // Finishes the tasks already submitted, then joins.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> task);
  std::size_t size() const;

 private:
  void run();
  void enter_long_wait();
  void leave_long_wait();

  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  const std::size_t wanted_threads_;  // free to run tasks, at least
  std::size_t long_waits_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace whippet::consumer
