#pragma once

// Line-level assertions on a rendered Prometheus page, with the whole page
// in the failure message so that a mismatch is easy to read.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace whippet::testing {

inline constexpr const char* kPromtool = "/usr/bin/promtool";

struct CommandOutcome {
  int exit_code = -1;
  std::string output;
};

// Feeds `input` to `command` on its standard input; collects both output streams.
inline CommandOutcome run_with_input(const std::string& command, const std::string& input) {
  char output_path[] = "/tmp/whippet_promtool_XXXXXX";
  const int descriptor = mkstemp(output_path);
  if (descriptor < 0) return {};
  close(descriptor);
  CommandOutcome outcome;
  // A command that exits before reading everything must fail the test, not
  // kill the test process with SIGPIPE.
  const auto previous_handler = std::signal(SIGPIPE, SIG_IGN);
  FILE* pipe = popen((command + " >" + output_path + " 2>&1").c_str(), "w");
  if (pipe == nullptr) return outcome;
  std::fwrite(input.data(), 1, input.size(), pipe);
  const int status = pclose(pipe);
  std::signal(SIGPIPE, previous_handler);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream file(output_path);
  std::ostringstream text;
  text << file.rdbuf();
  outcome.output = text.str();
  std::remove(output_path);
  return outcome;
}


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
