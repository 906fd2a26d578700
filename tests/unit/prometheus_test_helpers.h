#pragma once

// Line-level assertions on a rendered Prometheus page, with the whole page
// in the failure message so that a mismatch is easy to read.

#include <algorithm>
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace whippet::testing {

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

inline ::testing::AssertionResult has_line(const std::string& page, std::string_view line) {
  const auto lines = lines_of(page);
  if (std::find(lines.begin(), lines.end(), line) != lines.end()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no line\n  " << line << "\nin the page:\n" << page;
}

// Lines that start with `prefix`: the samples of one family, say.
inline std::size_t count_lines_starting_with(const std::string& page, std::string_view prefix) {
  const auto lines = lines_of(page);
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(),
                    [&](const std::string& line) { return line.starts_with(prefix); }));
}

}  // namespace whippet::testing
