#include "flow_limiter.h"

#include <algorithm>

namespace whippet::fanout {

FlowLimiter::FlowLimiter(std::uint64_t records_per_second, std::uint64_t bytes_per_second)
    : refilled_(Clock::now()) {
  records_.rate = records_.tokens = static_cast<double>(records_per_second);
  bytes_.rate = bytes_.tokens = static_cast<double>(bytes_per_second);
}

void FlowLimiter::refill(Clock::time_point now) {
  const double seconds = std::chrono::duration<double>(now - refilled_).count();
  if (seconds <= 0) return;
  records_.refill(seconds);
  bytes_.refill(seconds);
  refilled_ = now;
}

bool FlowLimiter::try_take(std::size_t bytes, Clock::time_point now) {
  refill(now);
  const auto size = static_cast<double>(bytes);
  if (records_.rate > 0 && records_.tokens < 1) return false;
  if (bytes_.rate > 0 && bytes_.tokens < bytes_.needed(size)) return false;
  if (records_.rate > 0) records_.tokens -= 1;
  if (bytes_.rate > 0) bytes_.tokens -= bytes_.needed(size);
  return true;
}

std::optional<FlowLimiter::Clock::time_point> FlowLimiter::next_allowed(std::size_t bytes,
                                                                       Clock::time_point now) {
  if (records_.rate <= 0 && bytes_.rate <= 0) return std::nullopt;
  refill(now);
  double wait_seconds = 0;
  if (records_.rate > 0 && records_.tokens < 1) {
    wait_seconds = std::max(wait_seconds, (1 - records_.tokens) / records_.rate);
  }
  const auto size = static_cast<double>(bytes);
  if (bytes_.rate > 0 && bytes_.tokens < bytes_.needed(size)) {
    wait_seconds = std::max(wait_seconds, (bytes_.needed(size) - bytes_.tokens) / bytes_.rate);
  }
  return now + std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double>(wait_seconds));
}

}  // namespace whippet::fanout
