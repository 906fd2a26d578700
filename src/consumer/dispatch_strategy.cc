#include "consumer/dispatch_strategy.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "consumer/batch_strategy.h"
#include "consumer/key_ordered_strategy.h"
#include "consumer/partition_ordered_strategy.h"
#include "whippet/retry.h"

namespace whippet::consumer {
namespace {

using Outcome = retry::FailureHandler::Outcome;

// Calls `attempt` behind the exception barrier; a failure goes to the retry
// policy, which may try again, forward a copy, or give up on it.
Outcome attempt_with_policy(const DispatchContext& context, PartitionState& partition,
                            std::span<const Record> records, const std::function<void()>& attempt) {
  try {
    attempt();
    context.counters->records_handled.fetch_add(records.size(), std::memory_order_relaxed);
    return Outcome::kDone;
  } catch (const RecordAbandoned&) {
    return Outcome::kAbandoned;
  } catch (...) {
    context.counters->handler_failures.fetch_add(1, std::memory_order_relaxed);
    auto error = std::current_exception();
    try {
      auto outcome = context.failures->handle(partition, records, error, attempt);
      if (outcome == Outcome::kRecovered) {
        context.counters->records_handled.fetch_add(records.size(), std::memory_order_relaxed);
      }
      return outcome;
    } catch (const std::exception& failure) {
      // E.g. the dead-letter topic cannot be created: keep the record
      // uncommitted rather than lose it.
      spdlog::error("cannot apply the retry policy to {}-{}@{}: {}; it stays uncommitted",
                    records.front().topic, records.front().partition, records.front().offset,
                    failure.what());
      return Outcome::kAbandoned;
    }
  }
}

// Runs the handler of a record already begun; true when the record is to
// be completed, false when it was abandoned (it stays pending).
bool handle_begun(const DispatchContext& context, PartitionState& partition,
                  const Record& record) {
  const auto outcome = attempt_with_policy(context, partition, std::span(&record, 1),
                                           [&] { context.handler(record); });
  if (outcome != Outcome::kAbandoned) return true;
  partition.abandon(record.offset);
  return false;
}

}  // namespace

std::unique_ptr<DispatchStrategy> make_dispatch_strategy(const DispatchMode& mode,
                                                         DispatchContext context) {
  return std::visit(
      [&](const auto& settings) -> std::unique_ptr<DispatchStrategy> {
        using Settings = std::decay_t<decltype(settings)>;
        if constexpr (std::is_same_v<Settings, PartitionOrdered>) {
          return std::make_unique<PartitionOrderedStrategy>(std::move(context));
        } else if constexpr (std::is_same_v<Settings, KeyOrdered>) {
          return std::make_unique<KeyOrderedStrategy>(std::move(context));
        } else {
          return std::make_unique<BatchStrategy>(std::move(context), settings);
        }
      },
      mode);
}

void run_record(const DispatchContext& context, PartitionState& partition, const Record& record) {
  if (!partition.begin(record.offset)) return;  // revoked meanwhile: a new owner handles it
  if (!handle_begun(context, partition, record)) return;
  if (partition.complete(record.offset)) context.wake_poll_thread();
}

void SequentialRun::run(const Record& record) {
  bool started = false;
  if (finished_ >= 0) {
    const auto handover = partition_.complete_then_begin(std::exchange(finished_, -1), record.offset);
    if (handover.wake) context_.wake_poll_thread();
    started = handover.started;
  } else {
    started = partition_.begin(record.offset);
  }
  if (!started) return;  // revoked meanwhile: a new owner handles it
  if (handle_begun(context_, partition_, record)) finished_ = record.offset;
}

void SequentialRun::finish() noexcept {
  if (finished_ < 0) return;
  if (partition_.complete(std::exchange(finished_, -1))) context_.wake_poll_thread();
}

void run_batch(const DispatchContext& context, PartitionState& partition,
               std::span<const Record> records) {
  // Revoked meanwhile: a new owner handles the whole batch.
  if (!partition.begin(records)) return;
  const auto outcome =
      attempt_with_policy(context, partition, records, [&] { context.batch_handler(records); });
  if (outcome == Outcome::kAbandoned) {
    partition.abandon(records);
    return;
  }
  if (partition.complete(records)) context.wake_poll_thread();
}

}  // namespace whippet::consumer
