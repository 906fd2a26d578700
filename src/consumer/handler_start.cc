#include "consumer/handler_start.h"

namespace whippet::consumer::handler_start {
namespace {

thread_local Clock::time_point pending{};
thread_local bool is_set = false;
thread_local Clock::time_point finished{};
thread_local bool has_finished = false;

}  // namespace

Clock::time_point begin() noexcept {
  pending = has_finished ? finished : Clock::now();
  has_finished = false;
  is_set = true;
  return pending;
}

void set(Clock::time_point start) noexcept {
  pending = start;
  is_set = true;
}

Clock::time_point take() noexcept {
  if (!is_set) return Clock::now();
  is_set = false;
  return pending;
}

Clock::time_point finish() noexcept {
  finished = Clock::now();
  has_finished = true;
  return finished;
}

void forget_finish() noexcept { has_finished = false; }

}  // namespace whippet::consumer::handler_start
