#include "subscription_session.h"

#include "record_messages.h"
#include "whippet/retry.h"

namespace whippet::sidecar {
namespace {

constexpr const char* kDefaultErrorType = "SidecarClientError";
constexpr std::size_t kLongestErrorType = 200;
constexpr std::size_t kLongestErrorMessage = 4000;

std::string position_of(const Record& record) {
  return record.topic + "-" + std::to_string(record.partition) + "@" +
         std::to_string(record.offset);
}

}  // namespace

SubscriptionSession::SubscriptionSession(SessionSettings settings, Push push)
    : settings_(settings), push_(std::move(push)) {}

void SubscriptionSession::throw_abandoned(const Record& record) const {
  throw RecordAbandoned("the client of " + position_of(record) +
                        " went away before answering; the group delivers it again");
}

uint64_t SubscriptionSession::enter(Waiting& waiting) {
  std::unique_lock lock(mutex_);
  slot_free_.wait(lock, [&] {
    return abandoned_ || (!draining_ && waiting_.size() < settings_.max_in_flight);
  });
  if (abandoned_) return 0;
  const auto id = ++last_id_;
  waiting_.emplace(id, &waiting);
  return id;
}

void SubscriptionSession::handle(const Record& record) {
  Waiting waiting;
  const auto id = enter(waiting);
  if (id == 0) {
    counters_.abandoned.fetch_add(1, std::memory_order_relaxed);
    throw_abandoned(record);
  }
  try {
    v1::Delivery delivery;
    delivery.set_delivery_id(id);
    fill_consumed_record(record, delivery.mutable_record());
    push_(std::move(delivery));
  } catch (...) {
    leave(id);  // `waiting` lives on this stack frame: never leave it registered
    throw;
  }
  counters_.delivered.fetch_add(1, std::memory_order_relaxed);

  bool abandoned = false;
  const auto outcome = wait_for_outcome(id, waiting, abandoned);
  if (!outcome) {
    if (abandoned) {
      counters_.abandoned.fetch_add(1, std::memory_order_relaxed);
      throw_abandoned(record);
    }
    counters_.deadline_missed.fetch_add(1, std::memory_order_relaxed);
    throw ReportedFailure("AckDeadlineExceeded",
                          "no outcome for " + position_of(record) + " within " +
                              std::to_string(settings_.ack_deadline.count()) +
                              " ms of its delivery",
                          /*retriable=*/true);
  }
  // Client text goes into dead-letter headers and metric labels: bounded.
  auto type = outcome->error_type().empty() ? std::string(kDefaultErrorType)
                                            : outcome->error_type().substr(0, kLongestErrorType);
  auto message = outcome->error_message().substr(0, kLongestErrorMessage);
  switch (outcome->kind()) {
    case v1::FAILED:
      throw ReportedFailure(std::move(type), message, /*retriable=*/true);
    case v1::NON_RETRIABLE:
      throw ReportedFailure(std::move(type), message, /*retriable=*/false);
    default:
      return;  // ACK and SKIP
  }
}

std::optional<v1::Outcome> SubscriptionSession::wait_for_outcome(uint64_t id, Waiting& waiting,
                                                                 bool& abandoned) {
  std::unique_lock lock(mutex_);
  while (!waiting.outcome && !abandoned_) {
    if (!waiting.written_at) {
      waiting.answered.wait(lock);  // queued behind a client slow to read
      continue;
    }
    const auto deadline = *waiting.written_at + settings_.ack_deadline;
    if (waiting.answered.wait_until(lock, deadline) == std::cv_status::timeout &&
        !waiting.outcome && !abandoned_) {
      break;
    }
  }
  abandoned = !waiting.outcome && abandoned_;
  auto outcome = std::move(waiting.outcome);
  leave_locked(id);
  return outcome;
}

void SubscriptionSession::leave(uint64_t id) {
  std::lock_guard lock(mutex_);
  leave_locked(id);
}

void SubscriptionSession::leave_locked(uint64_t id) {
  waiting_.erase(id);
  slot_free_.notify_one();
  if (waiting_.empty()) drained_.notify_all();
}

void SubscriptionSession::written(const std::vector<uint64_t>& delivery_ids) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  for (auto id : delivery_ids) {
    const auto found = waiting_.find(id);
    if (found == waiting_.end()) continue;
    found->second->written_at = now;
    found->second->answered.notify_one();
  }
}

grpc::Status SubscriptionSession::apply(const v1::Outcomes& outcomes) {
  std::lock_guard lock(mutex_);
  for (const auto& outcome : outcomes.outcomes()) {
    if (!v1::OutcomeKind_IsValid(outcome.kind())) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "outcome kind " + std::to_string(outcome.kind()) + " of delivery " +
                  std::to_string(outcome.delivery_id()) +
                  " is unknown: use ACK, FAILED, NON_RETRIABLE or SKIP"};
    }
    if (outcome.delivery_id() == 0 || outcome.delivery_id() > last_id_) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "delivery id " + std::to_string(outcome.delivery_id()) +
                  " was never issued on this stream (the last one is " + std::to_string(last_id_) +
                  ")"};
    }
    const auto found = waiting_.find(outcome.delivery_id());
    if (found == waiting_.end() || found->second->outcome) {
      counters_.stale_outcomes.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    switch (outcome.kind()) {
      case v1::ACK: counters_.acknowledged.fetch_add(1, std::memory_order_relaxed); break;
      case v1::SKIP: counters_.skipped.fetch_add(1, std::memory_order_relaxed); break;
      case v1::FAILED: counters_.failed.fetch_add(1, std::memory_order_relaxed); break;
      default: counters_.non_retriable.fetch_add(1, std::memory_order_relaxed); break;
    }
    found->second->outcome = outcome;
    found->second->answered.notify_one();
  }
  return grpc::Status::OK;
}

bool SubscriptionSession::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  draining_ = true;
  return drained_.wait_for(lock, timeout, [&] { return waiting_.empty() || abandoned_; }) &&
         waiting_.empty();
}

void SubscriptionSession::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  for (auto& [id, waiting] : waiting_) waiting->answered.notify_one();
  slot_free_.notify_all();
  drained_.notify_all();
}

std::size_t SubscriptionSession::in_flight() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

nlohmann::json SubscriptionSession::counters() const {
  const auto read = [](const std::atomic<uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  return {{"delivered", read(counters_.delivered)},
          {"acknowledged", read(counters_.acknowledged)},
          {"skipped", read(counters_.skipped)},
          {"failed", read(counters_.failed)},
          {"non_retriable", read(counters_.non_retriable)},
          {"deadline_missed", read(counters_.deadline_missed)},
          {"stale_outcomes", read(counters_.stale_outcomes)},
          {"abandoned", read(counters_.abandoned)},
          {"in_flight", in_flight()}};
}

}  // namespace whippet::sidecar
