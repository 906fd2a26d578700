#include "consumer/dispatch_strategy.h"

#include <spdlog/spdlog.h>

#include "consumer/partition_ordered_strategy.h"

namespace whippet::consumer {

std::unique_ptr<DispatchStrategy> make_dispatch_strategy(const DispatchMode& mode,
                                                         DispatchContext context) {
  return std::visit(
      [&](const auto& settings) -> std::unique_ptr<DispatchStrategy> {
        using Settings = std::decay_t<decltype(settings)>;
        if constexpr (std::is_same_v<Settings, PartitionOrdered>) {
          return std::make_unique<PartitionOrderedStrategy>(std::move(context));
        } else {
          throw Error(ErrorCode::kInvalidConfig, "dispatch mode not available yet", {});
        }
      },
      mode);
}

void run_record(const DispatchContext& context, PartitionState& partition, const Record& record) {
  if (!partition.begin(record.offset)) return;  // revoked meanwhile: a new owner handles it
  try {
    context.handler(record);
    context.counters->records_handled.fetch_add(1, std::memory_order_relaxed);
  } catch (const std::exception& error) {
    // Without a retry policy a failure is logged and the record counts as
    // handled, so one bad record cannot stall its partition forever.
    context.counters->handler_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("handler failed on {}-{}@{}: {}", record.topic, record.partition, record.offset,
                  error.what());
  } catch (...) {
    context.counters->handler_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("handler failed on {}-{}@{} with a non-standard exception", record.topic,
                  record.partition, record.offset);
  }
  if (partition.complete(record.offset)) context.wake_poll_thread();
}

}  // namespace whippet::consumer
