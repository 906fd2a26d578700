#pragma once

// Producer::Impl, shared by producer.cc (sending, closing) and
// delivery_reports.cc (the delivery thread: outcomes and re-sends).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "kafka/broker_reachability.h"
#include "kafka/handles.h"
#include "producer/delivered_outcome.h"
#include "producer/delivery_tracker.h"
#include "producer/pending_delivery.h"
#include "producer/resend_scheduler.h"
#include "producer/spent_reports.h"
#include "whippet/producer.h"

namespace whippet {

struct Producer::Impl {
  using Clock = std::chrono::steady_clock;

  explicit Impl(ProducerOptions producer_options);
  ~Impl();

  // `headers_to_send` replace the record's own (trace propagation adds to a
  // copy of them).
  void submit(const ProducerRecord& record, const Headers& headers_to_send,
              std::unique_ptr<producer::PendingDelivery> pending);
  // Sends a record whose back-off has passed again (the scheduler's thread).
  void send_again(producer::Resend&& resend) noexcept;
  void close(std::chrono::milliseconds timeout);

  // Why librdkafka reported `message` as failed, in Whippet's terms.
  Error failure_of(const rd_kafka_message_t& message);

 private:
  rd_kafka_error_t* produce(const ProducerRecord& record, rd_kafka_headers_t* headers,
                            producer::PendingDelivery* pending);
  // Hands a counted record to librdkafka, waiting for room in a full buffer
  // for up to buffer_full_timeout; a record refused gets its outcome here.
  void enqueue(const ProducerRecord& record, kafka::HeadersHandle headers,
               std::unique_ptr<producer::PendingDelivery> pending);
  // One event from the main queue: delivery reports or a client error.
  void serve(rd_kafka_event_t* event) noexcept;
  // Hands over the outcomes of a delivery report event; returns how many
  // records got theirs, for the caller to count once the event's room can
  // be taken back (tracker.finish).
  std::uint64_t serve_delivery_reports(rd_kafka_event_t* event) noexcept;
  // True when the record got its outcome; false when it waits for a re-send
  // or was counted already.
  bool handle_delivery(const rd_kafka_message_t& message,
                       std::unique_ptr<producer::PendingDelivery> pending,
                       producer::DeliveredOutcome& delivered) noexcept;
  // The timestamp the broker stored a delivered record with.
  int64_t stored_timestamp(const rd_kafka_message_t& message,
                           const producer::PendingDelivery& pending) const;
  // Queues a record that failed with `error` to be sent again, when the
  // retry policy says so. False when the error stays the record's outcome;
  // on true, `pending` was taken.
  bool try_resend(const rd_kafka_message_t& message,
                  std::unique_ptr<producer::PendingDelivery>& pending, const Error& error);
  // Fails records the scheduler gave back on close.
  void fail_waiting(std::vector<producer::Resend> waiting) noexcept;
  void reject(std::unique_ptr<producer::PendingDelivery> pending, const std::string& topic,
              Error error);
  // Hands over an outcome decided on the sending thread, reporting it first.
  void complete(producer::PendingDelivery& pending, const std::string& topic,
                Result<RecordMetadata> outcome) noexcept;
  void report_delivery(const char* topic, const producer::PendingDelivery& pending,
                       const Result<RecordMetadata>& outcome) const noexcept;
  void fail_pending();
  void run_delivery_loop();
  void stop_delivery_thread();

 public:
  ProducerOptions options;
  // Declared before the handle so that it outlives it: an embedded cluster
  // must not stop under a client still connected to it.
  ResolvedCluster cluster;
  producer::DeliveryTracker tracker;
  kafka::BrokerReachability reachability;
  kafka::KafkaHandle handle;
  // The queue of delivery report and error events the delivery thread serves.
  // Declared after the handle: it must be released before the handle is.
  kafka::QueueHandle main_queue;
  // Declared after the handle: reports must be destroyed before it is.
  producer::SpentReports spent_reports;
  // Only when the retry policy can re-send. Declared after the handle: its
  // thread produces, so it must end before the handle goes.
  std::unique_ptr<producer::ResendScheduler> resends;

 private:
  // librdkafka 2.0.2's mock answers every produce with a log-append time of
  // 1234 ms after the epoch; on it, the send time is reported instead.
  bool mock_cluster = false;
  std::atomic<bool> stop_polling{false};
  std::mutex close_mutex;
  std::thread delivery_thread;
};

}  // namespace whippet
