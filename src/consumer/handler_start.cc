#include "consumer/handler_start.h"

namespace whippet::consumer::handler_start {
namespace {

thread_local Clock::time_point pending{};
thread_local bool is_set = false;

}  // namespace

void set(Clock::time_point start) noexcept {
  pending = start;
  is_set = true;
}

Clock::time_point take() noexcept {
  if (!is_set) return Clock::now();
  is_set = false;
  return pending;
}

}  // namespace whippet::consumer::handler_start
