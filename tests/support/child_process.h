#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace whippet::testing {

// A program started by a test, killed (SIGKILL) or stopped (SIGTERM) on
// demand, and always reaped.
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& arguments);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void kill_now();                  // SIGKILL, then reap
  int terminate(int timeout_seconds);  // SIGTERM, wait, SIGKILL if needed; exit status
  bool running();

 private:
  pid_t pid_ = -1;
};

}  // namespace whippet::testing
