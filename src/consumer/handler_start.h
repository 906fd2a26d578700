#pragma once

// One clock reading per record on a worker thread, shared by the engine and
// the metrics decorator. PartitionState::begin reads the clock (for the
// longest-running record) and the decorator times the handler from that
// reading instead of one of its own. The decorator's end reading after a
// successful handler in turn serves as the start of the next record the
// same task begins, less than a microsecond later: with metrics on, a record
// costs one clock reading, not three (a reading is about 25 ns here, most of
// what the decorator cost per record).

#include <chrono>

namespace whippet::consumer::handler_start {

using Clock = std::chrono::steady_clock;

// Engine, as a record begins: the start time, which the decorator's take()
// will return. The end of the handler this thread finished last when that
// was just before, else the clock now.
Clock::time_point begin() noexcept;
// Engine, as a batch begins: its start time (batch handlers are not timed by
// the metrics decorator, so no finish() reading is reused).
void set(Clock::time_point start) noexcept;
// The time set on this thread since the last take, or else now (a retry
// after a back-off, a handler run outside the engine).
Clock::time_point take() noexcept;
// Decorator, after a successful handler: reads the clock, and lets the next
// begin() on this thread use that reading.
Clock::time_point finish() noexcept;
// The worker pool forgets the reading after each task, so that a record
// begun after an idle spell has its start read afresh. Only a handler run
// that succeeded leaves a reading (a retry that succeeded after a wait
// included: it is read after the wait), and the next begin() uses it up.
void forget_finish() noexcept;

}  // namespace whippet::consumer::handler_start
