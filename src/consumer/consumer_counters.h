#pragma once

#include <atomic>
#include <cstdint>

namespace whippet::consumer {

// Monotonic counters shared by the poll thread and the workers.
struct ConsumerCounters {
  std::atomic<std::uint64_t> records_handled{0};
  std::atomic<std::uint64_t> handler_failures{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> commit_failures{0};
  std::atomic<std::uint64_t> rebalances{0};
  std::atomic<std::uint64_t> pauses{0};
};

}  // namespace whippet::consumer
