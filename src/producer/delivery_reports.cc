// The delivery thread's side of Producer::Impl: turning librdkafka's
// delivery reports into outcomes and re-sending records that failed
// transiently.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include <spdlog/spdlog.h>

#include "common/thread_name.h"
#include "kafka/error_translation.h"
#include "kafka/record_conversion.h"
#include "producer/delivered_outcome.h"
#include "producer/producer_errors.h"
#include "producer/producer_impl.h"

namespace whippet {
namespace {

// The delivery thread blocks in rd_kafka_queue_poll for at most this long;
// close() wakes it earlier with rd_kafka_queue_yield, so this only bounds a
// missed wake-up; spent reports wait at least this long when nobody sends
// (any event restarts the wait; kMaxWaiting bounds them meanwhile).
constexpr int kPollTimeoutMilliseconds = 1000;

}  // namespace

void Producer::Impl::run_delivery_loop() {
  common::name_this_thread("whippet:deliver");
  while (!stop_polling.load()) {
    // Blocks while there is nothing to serve.
    rd_kafka_event_t* event = rd_kafka_queue_poll(main_queue.get(), kPollTimeoutMilliseconds);
    if (event == nullptr) {
      // No report for a while, so senders are few or stuck (a broker down,
      // a full buffer): free the records here rather than wait for them.
      if (spent_reports.destroy_all() > 0) tracker.room_may_be_free();
      continue;
    }
    serve(event);
  }
}

void Producer::Impl::serve(rd_kafka_event_t* event) noexcept {
  switch (rd_kafka_event_type(event)) {
    case RD_KAFKA_EVENT_DR: {
      const auto outcomes = serve_delivery_reports(event);
      // A sender destroys the event (see SpentReports), which frees the
      // room that senders waiting for it are woken to take.
      spent_reports.add(event);
      // Counted only now, so that once flush() returns, a sender finds all
      // of these records' room.
      tracker.finish(outcomes);
      tracker.room_may_be_free();
      return;
    }
    case RD_KAFKA_EVENT_ERROR:
      reachability.on_client_error(rd_kafka_event_error(event), rd_kafka_event_error_string(event));
      break;
    default:
      // Only delivery reports and errors are enabled.
      break;
  }
  rd_kafka_event_destroy(event);
}

std::uint64_t Producer::Impl::serve_delivery_reports(rd_kafka_event_t* event) noexcept {
  // Each record's PendingDelivery was written by a sender long ago and is
  // no longer in any cache; the reports come in slices whose objects are all
  // fetched before the first is handled, instead of one miss after another.
  std::array<const rd_kafka_message_t*, 64> messages{};
  producer::DeliveredOutcome delivered;
  std::uint64_t outcomes = 0;
  for (;;) {
    const auto count = rd_kafka_event_message_array(event, messages.data(), messages.size());
    if (count == 0) return outcomes;
    for (std::size_t index = 0; index < count; ++index) {
      __builtin_prefetch(messages[index]->_private, 1);
    }
    for (std::size_t index = 0; index < count; ++index) {
      // Taking ownership here is what frees the opaque exactly once: every
      // message Whippet enqueued gets exactly one delivery report.
      std::unique_ptr<producer::PendingDelivery> pending(
          static_cast<producer::PendingDelivery*>(messages[index]->_private));
      if (pending && handle_delivery(*messages[index], std::move(pending), delivered)) ++outcomes;
    }
  }
}

bool Producer::Impl::handle_delivery(const rd_kafka_message_t& message,
                                     std::unique_ptr<producer::PendingDelivery> pending,
                                     producer::DeliveredOutcome& delivered) noexcept {
  try {
    // Reported before the outcome is handed over, so that whoever waits on
    // the future or flush() also finds the record counted.
    if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      reachability.on_success();
      const auto& outcome = delivered.describe(message, stored_timestamp(message, *pending));
      report_delivery(outcome.value().topic.c_str(), *pending, outcome);
      pending->complete(outcome);
      return true;
    }
    auto error = failure_of(message);
    // Still in flight when queued for a re-send: no outcome yet.
    if (try_resend(message, pending, error)) return false;
    auto outcome = producer::with_attempts(std::move(error), pending->attempts());
    report_delivery(rd_kafka_topic_name(message.rkt), *pending, outcome);
    pending->complete(std::move(outcome));
  } catch (...) {
    // Only allocating can fail here; the record still needs an outcome.
    if (!pending) return false;
    pending->complete(Error(ErrorCode::kKafka, "cannot report delivery outcome"));
  }
  return true;
}

bool Producer::Impl::try_resend(const rd_kafka_message_t& message,
                                std::unique_ptr<producer::PendingDelivery>& pending,
                                const Error& error) {
  if (!resends || !producer::is_transient(message.err)) return false;
  const auto delay = delay_before_retry(options.retry.back_off, pending->attempts());
  if (!delay) return false;  // the schedule is exhausted: this error is final
  producer::Resend resend;
  auto& record = resend.record;
  record.topic = rd_kafka_topic_name(message.rkt);
  if (pending->requested_partition() >= 0) record.partition = pending->requested_partition();
  // librdkafka keeps a null key or value null and an empty one non-null.
  if (message.key != nullptr) {
    record.key.emplace(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    record.value.emplace(static_cast<const char*>(message.payload), message.len);
  }
  // The create time librdkafka stamped at send(), or the caller's own:
  // a re-sent record keeps the time it was first sent.
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const auto milliseconds = rd_kafka_message_timestamp(&message, &timestamp_type);
  if (timestamp_type == RD_KAFKA_TIMESTAMP_CREATE_TIME && milliseconds >= 0) {
    record.timestamp = kafka::from_milliseconds(milliseconds);
  }
  rd_kafka_headers_t* headers = nullptr;
  // rd_kafka_message_headers only reads the message, despite its signature.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(&message), &headers) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      headers != nullptr) {
    resend.headers.reset(rd_kafka_headers_copy(headers));
  }
  resend.last_error = error.what();
  const int attempts = pending->attempts();
  spdlog::debug("record for topic {} failed ({}), sending it again in {} ms (attempt {})",
                record.topic, resend.last_error, delay->count(), attempts + 1);
  resend.pending = std::move(pending);
  bool scheduled = false;
  try {
    scheduled = resends->schedule(std::move(resend), Clock::now() + *delay);
  } catch (const std::bad_alloc&) {
    // Nothing was moved: the error stays the record's outcome.
    pending = std::move(resend.pending);
    return false;
  }
  if (scheduled) return true;
  // Closing: the record would have been sent again, so the producer closing
  // is why it fails.
  pending = std::move(resend.pending);
  complete(*pending, resend.record.topic,
           producer::closed_while_retrying(resend.record.topic, attempts, resend.last_error));
  pending.reset();
  tracker.finish();
  return true;
}

void Producer::Impl::send_again(producer::Resend&& resend) noexcept {
  try {
    resend.pending->add_attempt();
    enqueue(resend.record, std::move(resend.headers), std::move(resend.pending));
  } catch (const std::exception& error) {
    // Only copying can fail here; the record still needs its one outcome.
    if (resend.pending) {
      complete(*resend.pending, resend.record.topic,
               Error(ErrorCode::kKafka, std::string("cannot send record again: ") + error.what()));
      tracker.finish();
    }
  }
}

void Producer::Impl::fail_waiting(std::vector<producer::Resend> waiting) noexcept {
  for (auto& resend : waiting) {
    try {
      complete(*resend.pending, resend.record.topic,
               producer::closed_while_retrying(resend.record.topic, resend.pending->attempts(),
                                               resend.last_error));
    } catch (...) {
      resend.pending->complete(Error(ErrorCode::kShutdown, "producer closed"));
    }
    tracker.finish();
  }
}

int64_t Producer::Impl::stored_timestamp(const rd_kafka_message_t& message,
                                         const producer::PendingDelivery& pending) const {
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const auto milliseconds = rd_kafka_message_timestamp(&message, &timestamp_type);
  if (mock_cluster && timestamp_type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) {
    return pending.create_time();
  }
  return milliseconds;
}

Error Producer::Impl::failure_of(const rd_kafka_message_t& message) {
  const std::string topic = rd_kafka_topic_name(message.rkt);
  auto context = producer::context_of(topic, message.partition);
  switch (kafka::code_for(message.err)) {
    case ErrorCode::kTimeout:
      if (reachability.all_brokers_down()) {
        // A timeout while no broker answers is an unreachable cluster; say so.
        return Error(ErrorCode::kBrokerUnreachable,
                     "cannot deliver record to topic " + topic + ": " +
                         kafka::unreachable_message(cluster.bootstrap_servers, reachability) +
                         "; gave up after " + std::to_string(options.delivery_timeout.count()) +
                         " ms",
                     std::move(context), true);
      }
      break;
    case ErrorCode::kUnknownTopic:
      return Error(ErrorCode::kUnknownTopic,
                   "cannot deliver record: topic " + topic +
                       " does not exist and the cluster did not create it",
                   std::move(context));
    case ErrorCode::kRecordTooLarge:
      return Error(ErrorCode::kRecordTooLarge,
                   "cannot deliver record to topic " + topic + ": " +
                       std::to_string(message.len + message.key_len) +
                       " bytes exceed the broker's size limit",
                   std::move(context));
    case ErrorCode::kShutdown:
      return Error(ErrorCode::kShutdown,
                   "producer closed before the record for topic " + topic + " was delivered",
                   std::move(context));
    default:
      break;
  }
  return kafka::translate(message.err, "cannot deliver record", std::move(context));
}

void Producer::Impl::report_delivery(const char* topic, const producer::PendingDelivery& pending,
                                     const Result<RecordMetadata>& outcome) const noexcept {
  if (!options.metrics.enabled()) return;
  try {
    metrics::DeliveryCompleted event;
    event.topic = topic;
    event.latency = Clock::now() - pending.send_time();
    if (!outcome.ok()) event.error = outcome.error().code();
    options.metrics.report(event);
  } catch (const std::exception& error) {
    // Only copying the topic name can fail; the record's outcome matters more.
    spdlog::warn("delivery metric for topic {} dropped: {}", topic, error.what());
  }
}

void Producer::Impl::complete(producer::PendingDelivery& pending, const std::string& topic,
                              Result<RecordMetadata> outcome) noexcept {
  report_delivery(topic.c_str(), pending, outcome);
  pending.complete(std::move(outcome));
}

}  // namespace whippet
