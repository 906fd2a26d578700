#include "support/handled_log.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <stdexcept>

namespace whippet::testing {

std::map<int32_t, std::vector<int64_t>> HandledLog::read() const {
  std::map<int32_t, std::vector<int64_t>> offsets;
  std::ifstream input(path_);
  int32_t partition = 0;
  int64_t offset = 0;
  while (input >> partition >> offset) offsets[partition].push_back(offset);
  return offsets;
}

std::size_t HandledLog::lines() const {
  std::size_t count = 0;
  for (const auto& [partition, offsets] : read()) count += offsets.size();
  return count;
}

template <class Done>
bool HandledLog::wait_until(Done done, std::chrono::milliseconds timeout) const {
  const int notifier = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (notifier < 0) throw std::runtime_error("inotify_init1 failed");
  inotify_add_watch(notifier, path_.c_str(), IN_MODIFY);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool reached = done();
  while (!reached) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd watch{notifier, POLLIN, 0};
    // Re-check at least every second: the writer may have been restarted.
    if (::poll(&watch, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000))) > 0) {
      char events[4096];
      while (::read(notifier, events, sizeof events) > 0) {
      }
    }
    reached = done();
  }
  ::close(notifier);
  return reached;
}

bool HandledLog::wait_for_lines(std::size_t count, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return lines() >= count; }, timeout);
}

bool HandledLog::wait_for_all(const std::map<int32_t, int64_t>& ends,
                              std::chrono::milliseconds timeout) const {
  return wait_until(
      [&] {
        const auto offsets = read();
        for (const auto& [partition, end] : ends) {
          auto found = offsets.find(partition);
          if (found == offsets.end()) return end == 0;
          std::set<int64_t> distinct(found->second.begin(), found->second.end());
          if (static_cast<int64_t>(distinct.size()) < end) return false;
        }
        return true;
      },
      timeout);
}

}  // namespace whippet::testing
