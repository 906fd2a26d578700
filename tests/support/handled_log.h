#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace whippet::testing {

// The "partition offset" lines a test consumer process appends per record.
class HandledLog {
 public:
  explicit HandledLog(std::string path) : path_(std::move(path)) {}

  // Offsets per partition, in the order they were handled.
  std::map<int32_t, std::vector<int64_t>> read() const;
  std::size_t lines() const;
  // Waits (on inotify, not by polling) until the file has `count` lines.
  bool wait_for_lines(std::size_t count, std::chrono::milliseconds timeout) const;
  // Waits until every offset below each partition's end has a line.
  bool wait_for_all(const std::map<int32_t, int64_t>& ends, std::chrono::milliseconds timeout) const;

 private:
  template <class Done>
  bool wait_until(Done done, std::chrono::milliseconds timeout) const;

  std::string path_;
};

}  // namespace whippet::testing
