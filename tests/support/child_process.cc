#include "support/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace whippet::testing {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  if (posix_spawn(&pid_, program.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + program);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) kill_now();
}

void ChildProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ChildProcess::terminate(int timeout_seconds) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  // waitpid has no timeout; a helper thread enforces it with SIGKILL.
  const pid_t pid = pid_;
  std::mutex mutex;
  std::condition_variable reaped_signal;
  bool reaped = false;
  std::thread enforcer([&] {
    std::unique_lock lock(mutex);
    if (!reaped_signal.wait_for(lock, std::chrono::seconds(timeout_seconds),
                                [&] { return reaped; })) {
      ::kill(pid, SIGKILL);
    }
  });
  int status = 0;
  ::waitpid(pid_, &status, 0);
  {
    std::lock_guard lock(mutex);
    reaped = true;
  }
  reaped_signal.notify_all();
  enforcer.join();
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

}  // namespace whippet::testing
