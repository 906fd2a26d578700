#include "delivery_writer.h"

namespace whippet::sidecar {
namespace {

// One message carries at most this much, so that a client's receive limit
// (4 MiB by default in gRPC) is never reached by batching alone.
constexpr std::size_t kMostDeliveriesPerMessage = 500;
constexpr std::size_t kMostBytesPerMessage = 1 << 20;

}  // namespace

DeliveryWriter::DeliveryWriter(Write write, std::function<void()> on_broken)
    : write_(std::move(write)), on_broken_(std::move(on_broken)), thread_([this] { run(); }) {}

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
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    wake_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void DeliveryWriter::run() {
  for (;;) {
    v1::ConsumeResponse message;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || first_ || !queue_.empty(); });
      if (stopping_) return;
      if (first_) {
        message = std::move(*first_);
        first_.reset();
      } else {
        auto* deliveries = message.mutable_deliveries();
        std::size_t bytes = 0;
        while (!queue_.empty() && deliveries->deliveries_size() < int(kMostDeliveriesPerMessage) &&
               (bytes == 0 || bytes + queue_.front().ByteSizeLong() <= kMostBytesPerMessage)) {
          bytes += queue_.front().ByteSizeLong();
          *deliveries->add_deliveries() = std::move(queue_.front());
          queue_.pop_front();
        }
      }
    }
    if (!write_(message)) {
      {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
      }
      on_broken_();
      return;
    }
  }
}

}  // namespace whippet::sidecar
