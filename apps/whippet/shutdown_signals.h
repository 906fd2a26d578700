#pragma once

#include <signal.h>

#include <thread>

#include "stop_request.h"

namespace whippet::cli {

// Turns SIGINT and SIGTERM into a StopRequest on an ordinary thread, so the
// shutdown that follows may lock, log and join (none of which a signal
// handler may do). Construct it before any other thread starts: it blocks
// the signals in the calling thread, every later thread (librdkafka's, the
// HTTP server's, the consumer's) inherits the mask, and so only this
// watcher's sigwait ever receives them. A second signal exits at once, for
// when a graceful shutdown hangs.
class ShutdownSignals {
 public:
  explicit ShutdownSignals(StopRequest& stop);
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

 private:
  void watch(StopRequest& stop);

  sigset_t previous_mask_;
  std::thread watcher_;
};

}  // namespace whippet::cli
