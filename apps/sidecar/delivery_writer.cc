#include "delivery_writer.h"

#include <chrono>

namespace whippet::sidecar {
namespace {

// One message carries at most this much, so that a client's receive limit
// (4 MiB by default in gRPC) is never reached by batching alone.
constexpr std::size_t kMostDeliveriesPerMessage = 500;
constexpr std::size_t kMostBytesPerMessage = 1 << 20;
// How long stop() lets a write in progress finish before ending the stream.
constexpr auto kWriteGrace = std::chrono::seconds(5);
constexpr auto kHealthInterval = std::chrono::seconds(1);

}  // namespace

DeliveryWriter::DeliveryWriter(DeliveryWriterCallbacks callbacks)
    : callbacks_(std::move(callbacks)), thread_([this] { run(); }) {}

DeliveryWriter::~DeliveryWriter() { stop(); }

void DeliveryWriter::send_first(v1::ConsumeResponse message) {
  std::lock_guard lock(mutex_);
  first_ = std::move(message);
  wake_.notify_one();
}

void DeliveryWriter::send(v1::Delivery delivery) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  queue_.push_back(std::move(delivery));
  wake_.notify_one();
}

void DeliveryWriter::stop() {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    queue_.clear();
    wake_.notify_one();
    if (!finished_changed_.wait_for(lock, kWriteGrace, [&] { return finished_; })) {
      lock.unlock();
      callbacks_.cancel_stream();  // the client stopped reading: end its Write
    }
  }
  thread_.join();
}

void DeliveryWriter::run() {
  std::vector<uint64_t> written;
  for (;;) {
    v1::ConsumeResponse message;
    written.clear();
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] { return stopping_ || first_ || (opened_ && !queue_.empty()); };
      while (!wake_.wait_for(lock, kHealthInterval, ready)) {
        if (callbacks_.healthy && !callbacks_.healthy()) {
          stopping_ = true;
          lock.unlock();
          callbacks_.on_broken();
          callbacks_.cancel_stream();
          lock.lock();
          break;
        }
      }
      if (stopping_) break;
      if (first_) {
        message = std::move(*first_);
        first_.reset();
        opened_ = true;
      } else {
        auto* deliveries = message.mutable_deliveries();
        std::size_t bytes = 0;
        while (!queue_.empty() &&
               deliveries->deliveries_size() < static_cast<int>(kMostDeliveriesPerMessage)) {
          const auto size = queue_.front().ByteSizeLong();
          if (bytes != 0 && bytes + size > kMostBytesPerMessage) break;
          bytes += size;
          written.push_back(queue_.front().delivery_id());
          *deliveries->add_deliveries() = std::move(queue_.front());
          queue_.pop_front();
        }
      }
    }
    if (!callbacks_.write(message)) {
      {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
      }
      callbacks_.on_broken();
      break;
    }
    if (!written.empty()) callbacks_.on_written(written);
  }
  std::lock_guard lock(mutex_);
  finished_ = true;
  finished_changed_.notify_all();
}

}  // namespace whippet::sidecar
