#pragma once

// Counters told apart by one extra label whose values are only known at run
// time: a handler's error types, a producer's error codes. They change on
// failures only, so a small mutex per series is cheap enough.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace whippet::observability {

// Caps how many distinct values a label may take across a whole sink: the
// first `capacity` values seen are kept, later ones become "other". Error
// types come from application code and could otherwise grow without bound.
class LabelValueLimit {
 public:
  static constexpr std::string_view kOverflowValue = "other";

  explicit LabelValueLimit(std::size_t capacity) : capacity_(capacity) {}

  // The value itself while there is room (or it was admitted before), else "other".
  std::string admit(std::string_view value);

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> admitted_;
};

class LabeledCounters {
 public:
  // Adds one to the counter for `value`. A value this series has not seen
  // yet goes through `limit` first, when there is one.
  void increment(std::string_view value, LabelValueLimit* limit = nullptr);

  // Every (label value, count) pair, in label order.
  std::vector<std::pair<std::string, std::uint64_t>> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t, std::less<>> counts_;
};

}  // namespace whippet::observability
