#include "producer/resend_scheduler.h"

#include <utility>

#include "common/thread_name.h"

namespace whippet::producer {

bool is_transient(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
    // Timeouts, delivery_timeout (message.timeout.ms) included.
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    // Broker transport failures.
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    // Replication and leadership, which heal on their own.
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    // Throttling.
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return true;
    default:
      return false;
  }
}

ResendScheduler::ResendScheduler(SendAgain send_again)
    : send_again_(std::move(send_again)), thread_([this] { run(); }) {}

ResendScheduler::~ResendScheduler() { static_cast<void>(stop()); }

bool ResendScheduler::schedule(Resend&& resend, Clock::time_point due) {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  const bool earliest = queue_.empty() || due < queue_.begin()->first;
  queue_.emplace(due, std::move(resend));
  // Only a new earliest record changes when the thread has to wake up.
  if (earliest) changed_.notify_one();
  return true;
}

std::vector<Resend> ResendScheduler::stop() {
  std::vector<Resend> left;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    left.reserve(queue_.size());
    for (auto& [due, resend] : queue_) left.push_back(std::move(resend));
    queue_.clear();
    changed_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  return left;
}

std::size_t ResendScheduler::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void ResendScheduler::run() {
  common::name_this_thread("whippet:resend");
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    if (queue_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto due = queue_.begin()->first;
    if (Clock::now() < due) {
      changed_.wait_until(lock, due);
      continue;
    }
    auto node = queue_.extract(queue_.begin());
    // Sent without the lock: sending may wait for room in a full buffer,
    // and the delivery thread must be able to schedule meanwhile.
    lock.unlock();
    send_again_(std::move(node.mapped()));
    lock.lock();
  }
}

}  // namespace whippet::producer
