#pragma once

// Records-per-second and bytes-per-second limits of one subscriber, as token
// buckets holding at most one second of allowance (so a subscriber idle for
// a while does not get a burst larger than a second's worth).

#include <chrono>
#include <cstdint>
#include <optional>

namespace whippet::fanout {

class FlowLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0: unlimited.
  FlowLimiter(std::uint64_t records_per_second, std::uint64_t bytes_per_second);

  // Takes one record of `bytes` when the allowance has room for it. A record
  // larger than a second of bytes passes once the bucket is full, so it is
  // never stuck for ever.
  bool try_take(std::size_t bytes, Clock::time_point now);
  // When try_take for a record of `bytes` can next succeed; nullopt when
  // unlimited.
  std::optional<Clock::time_point> next_allowed(std::size_t bytes, Clock::time_point now);

 private:
  struct Bucket {
    double rate = 0;  // per second; 0: unlimited
    double tokens = 0;
    void refill(double seconds) {
      if (rate > 0) tokens = std::min(rate, tokens + rate * seconds);
    }
    double needed(double amount) const { return std::min(amount, rate); }
  };
  void refill(Clock::time_point now);

  Bucket records_;
  Bucket bytes_;
  Clock::time_point refilled_;
};

}  // namespace whippet::fanout
