#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "consumer/dispatch_strategy.h"

namespace whippet::consumer {

// A partition's records go to the batch handler together, one batch at a
// time per partition, in offset order. A batch starts once it is full (count
// or bytes) or its first record has waited max_wait; the poll thread's tick
// starts the ones that waited long enough.
class BatchStrategy final : public DispatchStrategy {
 public:
  BatchStrategy(DispatchContext context, Batched settings)
      : context_(std::move(context)), settings_(settings) {}

  void dispatch(const std::shared_ptr<PartitionState>& partition,
                std::vector<Record> records) override;
  void remove(const PartitionState& partition) override;
  void on_tick(std::chrono::steady_clock::time_point now) override;
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Lane {
    std::shared_ptr<PartitionState> partition;
    std::mutex mutex;
    std::deque<Record> queue;
    std::size_t queued_bytes = 0;
    Clock::time_point first_queued{};
    bool running = false;
  };

  // With the lane's lock held: whether a batch should start now.
  bool ready(const Lane& lane, Clock::time_point now) const;
  void start_if_ready(const std::shared_ptr<Lane>& lane, Clock::time_point now);
  void run_batches(const std::shared_ptr<Lane>& lane);
  std::vector<Record> take_batch(Lane& lane);

  DispatchContext context_;
  const Batched settings_;
  std::map<const PartitionState*, std::shared_ptr<Lane>> lanes_;  // poll thread only
};

}  // namespace whippet::consumer
