#include "shutdown_signals.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>

namespace whippet::cli {
namespace {

// SIGUSR1 only ever comes from our own destructor, to end the watcher.
constexpr int kStopWatching = SIGUSR1;

sigset_t watched_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, kStopWatching);
  return signals;
}

}  // namespace

ShutdownSignals::ShutdownSignals(StopRequest& stop) {
  const auto signals = watched_signals();
  pthread_sigmask(SIG_BLOCK, &signals, &previous_mask_);
  watcher_ = std::thread([this, &stop] { watch(stop); });
}

ShutdownSignals::~ShutdownSignals() {
  pthread_kill(watcher_.native_handle(), kStopWatching);
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void ShutdownSignals::watch(StopRequest& stop) {
  const auto signals = watched_signals();
  bool stopping = false;
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0 || signal == kStopWatching) return;
    if (stopping) {
      std::fputs("whippet: second signal, exiting without cleaning up\n", stderr);
      std::_Exit(128 + signal);
    }
    stopping = true;
    stop.request(signal == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
  }
}

}  // namespace whippet::cli
