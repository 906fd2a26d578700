#pragma once

// The one heap object per record in flight: librdkafka carries a pointer to
// it as the message opaque and hands it back in the delivery report. Its
// memory comes from a BlockCache: a sender allocates it and the delivery
// thread frees it, which malloc handles poorly (see block_cache.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <variant>

#include "whippet/producer.h"

namespace whippet::producer {

class PendingDelivery final {
 public:
  static void* operator new(std::size_t size);
  static void operator delete(void* block, std::size_t size) noexcept;

  explicit PendingDelivery(std::promise<RecordMetadata> promise) : outcome_(std::move(promise)) {}
  explicit PendingDelivery(DeliveryCallback callback) : outcome_(std::move(callback)) {}

  // Hands the outcome to the future or the callback. Never throws: it runs
  // on librdkafka's delivery path, and a callback's exception is caught and
  // logged here.
  void complete(Result<RecordMetadata>&& result) noexcept;
  // The same for an outcome that outlives the call: a callback gets it by
  // reference, a future a copy.
  void complete(const Result<RecordMetadata>& result) noexcept;

  // When the record was sent, for clusters whose delivery reports carry no
  // usable timestamp (see Producer::Impl::mock_cluster).
  void set_create_time(int64_t epoch_milliseconds) { create_time_ = epoch_milliseconds; }
  int64_t create_time() const { return create_time_; }

  // When send() was called, on the monotonic clock, for the delivery latency
  // metric; set only when the producer reports metrics.
  void set_send_time(std::chrono::steady_clock::time_point time) { send_time_ = time; }
  std::chrono::steady_clock::time_point send_time() const { return send_time_; }

  // The partition send() asked for, or -1 (any): a re-send asks for it again.
  void set_requested_partition(int32_t partition) { requested_partition_ = partition; }
  int32_t requested_partition() const { return requested_partition_; }

  // How many times the record was handed to librdkafka (re-sends of
  // ProducerOptions::retry included).
  int attempts() const { return attempts_; }
  void add_attempt() { ++attempts_; }

 private:
  std::variant<std::promise<RecordMetadata>, DeliveryCallback> outcome_;
  int64_t create_time_ = 0;
  std::chrono::steady_clock::time_point send_time_;
  int32_t requested_partition_ = -1;
  int attempts_ = 1;
};

}  // namespace whippet::producer
