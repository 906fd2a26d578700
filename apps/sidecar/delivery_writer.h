#pragma once

// The one thread that writes a Consume stream. Handlers on the consumer's
// worker threads queue their deliveries here and go back to waiting for
// outcomes; the writer sends what has gathered as one Deliveries message,
// so a busy stream carries many records per gRPC message.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "whippet/v1/sidecar.pb.h"

namespace whippet::sidecar {

struct DeliveryWriterCallbacks {
  // Sends one message; false once the stream is broken.
  std::function<bool(const v1::ConsumeResponse&)> write;
  // Called once, on the writer thread, when a write failed.
  std::function<void()> on_broken;
  // The delivery ids a successful write carried: their ack deadlines start.
  std::function<void(const std::vector<uint64_t>&)> on_written;
  // Ends the stream, so that a Write the client never reads returns.
  std::function<void()> cancel_stream;
  // Asked about once a second while the stream is idle; false (e.g. the SDK
  // consumer stopped on a fatal error) ends the stream, so that the client
  // learns of it and subscribes again instead of waiting forever. Optional.
  std::function<bool()> healthy;
};

class DeliveryWriter {
 public:
  explicit DeliveryWriter(DeliveryWriterCallbacks callbacks);
  ~DeliveryWriter();
  DeliveryWriter(const DeliveryWriter&) = delete;
  DeliveryWriter& operator=(const DeliveryWriter&) = delete;

  // The first message; deliveries queued before it wait for it.
  void send_first(v1::ConsumeResponse message);
  void send(v1::Delivery delivery);
  // Stops the thread; what is still queued is dropped (its records stay
  // uncommitted). A write blocked on a client that does not read is ended
  // by cancelling the stream after a grace period. Idempotent.
  void stop();

 private:
  void run();

  DeliveryWriterCallbacks callbacks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_changed_;
  std::optional<v1::ConsumeResponse> first_;
  bool opened_ = false;  // the first message went out
  std::deque<v1::Delivery> queue_;
  bool stopping_ = false;
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace whippet::sidecar
