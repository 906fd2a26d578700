#include "consumer/worker_pool.h"

#include "common/thread_name.h"
#include "consumer/handler_start.h"

namespace whippet::consumer {

namespace {
// The pool whose thread this is, so that a task can say it waits long.
thread_local WorkerPool* current_pool = nullptr;
}  // namespace

WorkerPool::LongWait::LongWait() : pool_(current_pool) {
  if (pool_ != nullptr) pool_->enter_long_wait();
}

WorkerPool::LongWait::~LongWait() {
  if (pool_ != nullptr) pool_->leave_long_wait();
}

WorkerPool::WorkerPool(std::size_t threads) : wanted_threads_(threads == 0 ? 1 : threads) {
  threads = wanted_threads_;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  // No thread is added once stopping_ is set, so the list is final here.
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
}

std::size_t WorkerPool::size() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void WorkerPool::enter_long_wait() {
  std::lock_guard lock(mutex_);
  ++long_waits_;
  if (!stopping_ && threads_.size() - long_waits_ < wanted_threads_) {
    threads_.emplace_back([this] { run(); });
  }
}

void WorkerPool::leave_long_wait() {
  std::lock_guard lock(mutex_);
  --long_waits_;
}

void WorkerPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  work_available_.notify_one();
}

void WorkerPool::run() {
  common::name_this_thread("whippet:worker");
  current_pool = this;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      work_available_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to do
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    // The next task may start long after this one ended: its first record
    // reads the clock afresh.
    handler_start::forget_finish();
  }
}

}  // namespace whippet::consumer
