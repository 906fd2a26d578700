#pragma once

// Records whose delivery failed with a transient error wait here for their
// back-off delay (ProducerOptions::retry), then are handed back to the
// producer to be sent again. One thread, driven by a condition variable: it
// sleeps until the earliest record is due or something changes, never polls.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "kafka/handles.h"
#include "producer/pending_delivery.h"
#include "whippet/record.h"

namespace whippet::producer {

// Whether a delivery report's error is worth sending the record again for
// (the list documented at ProducerRetryPolicy).
bool is_transient(rd_kafka_resp_err_t err) noexcept;

// A record waiting to be sent again, with everything needed to do so.
struct Resend {
  ProducerRecord record;  // its headers travel in `headers`, not in record.headers
  kafka::HeadersHandle headers;
  std::unique_ptr<PendingDelivery> pending;
  std::string last_error;  // what the last attempt failed with
};

class ResendScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  // Sends a due record again; runs on the scheduler's thread, must not throw.
  using SendAgain = std::function<void(Resend&&)>;

  explicit ResendScheduler(SendAgain send_again);
  // Stops; records still waiting are dropped (call stop() first to fail them).
  ~ResendScheduler();
  ResendScheduler(const ResendScheduler&) = delete;
  ResendScheduler& operator=(const ResendScheduler&) = delete;

  // Queues `resend` to be sent again at `due`. Returns false, leaving
  // `resend` untouched, once stopped.
  bool schedule(Resend&& resend, Clock::time_point due);

  // Refuses further records, waits for a re-send in progress to finish, ends
  // the thread and returns the records still waiting, for the caller to fail.
  std::vector<Resend> stop();

  std::size_t waiting() const;

 private:
  void run();

  SendAgain send_again_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<Clock::time_point, Resend> queue_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace whippet::producer
