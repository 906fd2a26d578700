#include "subscription_session.h"

#include "record_messages.h"
#include "whippet/retry.h"

namespace whippet::sidecar {
namespace {

constexpr const char* kDefaultErrorType = "SidecarClientError";

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
  v1::Delivery delivery;
  delivery.set_delivery_id(id);
  fill_consumed_record(record, delivery.mutable_record());
  push_(std::move(delivery));
  counters_.delivered.fetch_add(1, std::memory_order_relaxed);

  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + settings_.ack_deadline;
  waiting.answered.wait_until(lock, deadline,
                              [&] { return waiting.outcome.has_value() || abandoned_; });
  waiting_.erase(id);
  slot_free_.notify_one();
  if (waiting_.empty()) drained_.notify_all();
  if (!waiting.outcome) {
    const bool abandoned = abandoned_;
    lock.unlock();
    if (!abandoned) {
      counters_.deadline_missed.fetch_add(1, std::memory_order_relaxed);
      throw ReportedFailure("AckDeadlineExceeded",
                            "no outcome for " + position_of(record) + " within " +
                                std::to_string(settings_.ack_deadline.count()) + " ms",
                            /*retriable=*/true);
    }
    counters_.abandoned.fetch_add(1, std::memory_order_relaxed);
    throw_abandoned(record);
  }
  const auto outcome = std::move(*waiting.outcome);
  lock.unlock();
  const auto& type = outcome.error_type().empty() ? kDefaultErrorType : outcome.error_type();
  switch (outcome.kind()) {
    case v1::FAILED:
      throw ReportedFailure(type, outcome.error_message(), /*retriable=*/true);
    case v1::NON_RETRIABLE:
      throw ReportedFailure(type, outcome.error_message(), /*retriable=*/false);
    default:
      return;  // ACK and SKIP
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
