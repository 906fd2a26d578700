#pragma once

// The one thread that writes a Consume stream. Handlers on the consumer's
// worker threads queue their deliveries here and go back to waiting for
// outcomes; the writer sends what has gathered as one Deliveries message,
// so a busy stream carries many records per gRPC message.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "whippet/v1/sidecar.pb.h"

namespace whippet::sidecar {

class DeliveryWriter {
 public:
  // `write` sends one message and returns false once the stream is broken;
  // `on_broken` is then called once, on the writer thread.
  using Write = std::function<bool(const v1::ConsumeResponse&)>;
  DeliveryWriter(Write write, std::function<void()> on_broken);
  ~DeliveryWriter();
  DeliveryWriter(const DeliveryWriter&) = delete;
  DeliveryWriter& operator=(const DeliveryWriter&) = delete;

  // Sent before any delivery.
  void send_first(v1::ConsumeResponse message);
  void send(v1::Delivery delivery);
  // Stops the thread; what is still queued is dropped (its records stay
  // uncommitted). Idempotent.
  void stop();

 private:
  void run();

  Write write_;
  std::function<void()> on_broken_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<v1::ConsumeResponse> first_;
  std::deque<v1::Delivery> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace whippet::sidecar
