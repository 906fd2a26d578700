#pragma once

// When the engine began the record this thread is about to hand to its
// handler. PartitionState::begin reads the clock anyway (for the
// longest-running record); the metrics decorator takes that reading instead
// of a second one of its own, a measurable share of its cost per record.

#include <chrono>

namespace whippet::consumer::handler_start {

using Clock = std::chrono::steady_clock;

void set(Clock::time_point start) noexcept;
// The time set on this thread since the last take, or else now (a retry
// after a back-off, a handler run outside the engine).
Clock::time_point take() noexcept;

}  // namespace whippet::consumer::handler_start
