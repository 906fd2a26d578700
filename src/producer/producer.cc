#include "whippet/producer.h"

#include <array>
#include <new>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "cluster/embedded_registry.h"
#include "kafka/broker_reachability.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"
#include "kafka/handles.h"
#include "kafka/record_conversion.h"
#include "producer/delivery_tracker.h"
#include "producer/pending_delivery.h"
#include "producer/producer_config.h"
#include "producer/resend_scheduler.h"
#include "tracing/propagation.h"

namespace whippet {
namespace {

using Clock = std::chrono::steady_clock;

// The delivery thread blocks in rd_kafka_poll for at most this long; close()
// wakes it earlier with rd_kafka_queue_yield, so this only bounds a missed
// wake-up. (rd_kafka_yield would not do: it only flags the calling thread.)
constexpr int kPollTimeoutMilliseconds = 1000;

// After purging, outcomes arrive within milliseconds; each purge round waits
// this long, and the rounds catch sends that raced with close().
constexpr std::chrono::milliseconds kPurgeRoundTimeout{1000};
constexpr int kPurgeRounds = 5;

constexpr std::chrono::milliseconds kDestructorCloseTimeout{30000};

std::size_t record_bytes(const ProducerRecord& record) {
  std::size_t size = (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
  for (const auto& header : record.headers) {
    size += header.key.size() + (header.value ? header.value->size() : 0);
  }
  return size;
}

ErrorContext context_of(const std::string& topic, int32_t partition) {
  return ErrorContext::of_topic(topic, partition >= 0 ? std::optional<int32_t>(partition) : std::nullopt);
}

Error record_too_large(const std::string& topic, std::size_t size, std::size_t limit) {
  return Error(ErrorCode::kRecordTooLarge,
               "record of " + std::to_string(size) + " bytes for topic " + topic +
                   " exceeds max_record_bytes (" + std::to_string(limit) + ")",
               ErrorContext::of_topic(topic));
}

Error shutdown_error(const std::string& topic) {
  return Error(ErrorCode::kShutdown, "producer is closed: record for topic " + topic + " not sent",
               ErrorContext::of_topic(topic));
}

// A final error of a record that was sent more than once says so.
Result<RecordMetadata> with_attempts(Result<RecordMetadata> outcome, int attempts) {
  if (outcome.ok() || attempts <= 1) return outcome;
  const auto& error = outcome.error();
  return Error(error.code(),
               std::string(error.what()) + " (gave up after " + std::to_string(attempts) +
                   " attempts)",
               error.context(), error.retriable());
}

Error closed_while_retrying(const std::string& topic, int attempts,
                            const std::string& last_error) {
  return Error(ErrorCode::kShutdown,
               "producer closed before the record for topic " + topic + " was sent again (" +
                   std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts") +
                   " made, last error: " + last_error + ")",
               ErrorContext::of_topic(topic));
}

}  // namespace

struct Producer::Impl {
  explicit Impl(ProducerOptions producer_options);
  ~Impl();

  void submit(const ProducerRecord& record, std::unique_ptr<producer::PendingDelivery> pending);
  // Sends a record whose back-off has passed again (the scheduler's thread).
  void send_again(producer::Resend&& resend) noexcept;
  void close(std::chrono::milliseconds timeout);

  Result<RecordMetadata> outcome_of(const rd_kafka_message_t& message,
                                    const producer::PendingDelivery& pending);

  static void on_delivery(rd_kafka_t* handle, const rd_kafka_message_t* message,
                          void* opaque) noexcept;
  static void on_error(rd_kafka_t* handle, int err, const char* reason, void* opaque) noexcept;

 private:
  rd_kafka_error_t* produce(const ProducerRecord& record, rd_kafka_headers_t* headers,
                            producer::PendingDelivery* pending);
  // Hands a counted record to librdkafka, waiting for room in a full buffer
  // for up to buffer_full_timeout; a record refused gets its outcome here.
  void enqueue(const ProducerRecord& record, kafka::HeadersHandle headers,
               std::unique_ptr<producer::PendingDelivery> pending);
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
  // The queue rd_kafka_poll serves, held only to wake the delivery thread.
  // Declared after the handle: it must be released before the handle is.
  kafka::QueueHandle main_queue;
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

Producer::Impl::Impl(ProducerOptions producer_options)
    : options(std::move(producer_options)), cluster(resolve_cluster(options.cluster)) {
  producer::validate(options);
  mock_cluster = cluster.is_embedded() || cluster::is_embedded_address(cluster.bootstrap_servers);
  auto conf = kafka::build_conf(producer::producer_properties(cluster, options),
                                options.cluster.librdkafka_properties);
  // Callbacks are wired here, after the properties, so that raw overrides
  // can never replace them.
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
  handle = kafka::create_client(RD_KAFKA_PRODUCER, std::move(conf));
  main_queue.reset(rd_kafka_queue_get_main(handle.get()));
  if (delay_before_retry(options.retry.back_off, 1)) {
    resends = std::make_unique<producer::ResendScheduler>(
        [this](producer::Resend&& resend) { send_again(std::move(resend)); });
  }
  delivery_thread = std::thread([this] { run_delivery_loop(); });
}

Producer::Impl::~Impl() {
  // Producer::~Producer closes first; this only guarantees that the thread
  // never outlives the handle it polls, whatever path led here.
  if (resends) fail_waiting(resends->stop());
  if (delivery_thread.joinable()) stop_delivery_thread();
}

void Producer::Impl::stop_delivery_thread() {
  stop_polling.store(true);
  // Sticky: wakes the current rd_kafka_poll or makes the next one return.
  rd_kafka_queue_yield(main_queue.get());
  delivery_thread.join();
}

void Producer::Impl::run_delivery_loop() {
  while (!stop_polling.load()) {
    // Serves delivery reports and errors; blocks while there are none.
    rd_kafka_poll(handle.get(), kPollTimeoutMilliseconds);
  }
}

void Producer::Impl::on_error(rd_kafka_t* /*handle*/, int err, const char* reason,
                              void* opaque) noexcept {
  static_cast<Impl*>(opaque)->reachability.on_client_error(static_cast<rd_kafka_resp_err_t>(err),
                                                           reason);
}

void Producer::Impl::on_delivery(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message,
                                 void* opaque) noexcept {
  auto& impl = *static_cast<Impl*>(opaque);
  // Taking ownership here is what frees the opaque exactly once: every
  // message Whippet enqueued gets exactly one delivery report.
  std::unique_ptr<producer::PendingDelivery> pending(
      static_cast<producer::PendingDelivery*>(message->_private));
  if (!pending) return;
  try {
    auto outcome = impl.outcome_of(*message, *pending);
    if (!outcome.ok()) {
      // Still in flight when queued for a re-send: no outcome yet.
      if (impl.try_resend(*message, pending, outcome.error())) return;
      outcome = with_attempts(std::move(outcome), pending->attempts());
    }
    // Reported before the outcome is handed over, so that whoever waits on
    // the future or flush() also finds the record counted.
    impl.report_delivery(rd_kafka_topic_name(message->rkt), *pending, outcome);
    pending->complete(std::move(outcome));
  } catch (...) {
    // outcome_of could only fail to allocate; the record still needs an outcome.
    if (!pending) return;
    pending->complete(Error(ErrorCode::kKafka, "cannot report delivery outcome"));
  }
  impl.tracker.finish();
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
           closed_while_retrying(resend.record.topic, attempts, resend.last_error));
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
               closed_while_retrying(resend.record.topic, resend.pending->attempts(),
                                     resend.last_error));
    } catch (...) {
      resend.pending->complete(Error(ErrorCode::kShutdown, "producer closed"));
    }
    tracker.finish();
  }
}

Result<RecordMetadata> Producer::Impl::outcome_of(const rd_kafka_message_t& message,
                                                  const producer::PendingDelivery& pending) {
  std::string topic = rd_kafka_topic_name(message.rkt);
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    reachability.on_success();
    rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    auto milliseconds = rd_kafka_message_timestamp(&message, &timestamp_type);
    if (mock_cluster && timestamp_type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) {
      milliseconds = pending.create_time();
    }
    return RecordMetadata{std::move(topic), message.partition, message.offset,
                          kafka::from_milliseconds(milliseconds < 0 ? 0 : milliseconds)};
  }
  auto context = context_of(topic, message.partition);
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

rd_kafka_error_t* Producer::Impl::produce(const ProducerRecord& record,
                                          rd_kafka_headers_t* headers,
                                          producer::PendingDelivery* pending) {
  // produceva with a stack array: no allocation beyond librdkafka's own copy
  // of the message, and optional fields are simply left out.
  std::array<rd_kafka_vu_t, 8> fields{};
  std::size_t count = 0;
  auto add = [&](rd_kafka_vtype_t type) -> rd_kafka_vu_t& {
    fields[count].vtype = type;
    return fields[count++];
  };
  add(RD_KAFKA_VTYPE_TOPIC).u.cstr = record.topic.c_str();
  // Copying the payload lets the caller's record go out of scope at once.
  add(RD_KAFKA_VTYPE_MSGFLAGS).u.i = RD_KAFKA_MSG_F_COPY;
  add(RD_KAFKA_VTYPE_OPAQUE).u.ptr = pending;
  if (record.partition) add(RD_KAFKA_VTYPE_PARTITION).u.i32 = *record.partition;
  // A missing key or value is left unset, which librdkafka sends as null; an
  // empty one has a non-null pointer and stays empty.
  if (record.key) {
    auto& field = add(RD_KAFKA_VTYPE_KEY);
    // librdkafka's field is not const but only read with RD_KAFKA_MSG_F_COPY.
    field.u.mem.ptr = const_cast<char*>(record.key->data());
    field.u.mem.size = record.key->size();
  }
  if (record.value) {
    auto& field = add(RD_KAFKA_VTYPE_VALUE);
    field.u.mem.ptr = const_cast<char*>(record.value->data());
    field.u.mem.size = record.value->size();
  }
  if (record.timestamp) {
    add(RD_KAFKA_VTYPE_TIMESTAMP).u.i64 = kafka::to_milliseconds(*record.timestamp);
  }
  if (headers != nullptr) add(RD_KAFKA_VTYPE_HEADERS).u.headers = headers;
  return rd_kafka_produceva(handle.get(), fields.data(), count);
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

void Producer::Impl::reject(std::unique_ptr<producer::PendingDelivery> pending,
                            const std::string& topic, Error error) {
  // A re-sent record refused by librdkafka says how often it was tried.
  complete(*pending, topic, with_attempts(std::move(error), pending->attempts()));
  tracker.finish();
}

void Producer::Impl::submit(const ProducerRecord& record,
                            std::unique_ptr<producer::PendingDelivery> pending) {
  // Read only when someone collects metrics: the clock is not free.
  if (options.metrics.enabled()) pending->set_send_time(Clock::now());
  if (record.topic.empty()) {
    complete(*pending, record.topic,
             Error(ErrorCode::kInvalidArgument, "cannot send a record without a topic"));
    return;
  }
  if (const auto size = record_bytes(record); size > options.max_record_bytes) {
    complete(*pending, record.topic,
             record_too_large(record.topic, size, options.max_record_bytes));
    return;
  }
  // Converted before counting the record, so that a failure here cannot
  // leave the in-flight count wrong.
  kafka::HeadersHandle headers;
  if (!record.headers.empty()) headers = kafka::to_kafka_headers(record.headers);
  if (!tracker.try_start()) {
    complete(*pending, record.topic, shutdown_error(record.topic));
    return;
  }
  if (mock_cluster) {
    pending->set_create_time(record.timestamp ? kafka::to_milliseconds(*record.timestamp)
                                              : kafka::to_milliseconds(Timestamp::clock::now()));
  }
  if (record.partition) pending->set_requested_partition(*record.partition);
  enqueue(record, std::move(headers), std::move(pending));
}

void Producer::Impl::enqueue(const ProducerRecord& record, kafka::HeadersHandle headers,
                             std::unique_ptr<producer::PendingDelivery> pending) {
  auto seen_completions = tracker.completions();
  std::optional<Clock::time_point> deadline;
  for (;;) {
    kafka::ErrorHandle error(produce(record, headers.get(), pending.get()));
    if (!error) {
      // librdkafka owns both now and returns the opaque in the delivery report.
      static_cast<void>(headers.release());
      static_cast<void>(pending.release());
      return;
    }
    const auto err = rd_kafka_error_code(error.get());
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // The only place send() blocks: wait for deliveries to make room.
      if (!deadline) deadline = Clock::now() + options.buffer_full_timeout;
      if (Clock::now() < *deadline && tracker.wait_for_room(seen_completions, *deadline)) {
        seen_completions = tracker.completions();
        continue;
      }
      if (tracker.closed()) {
        return reject(std::move(pending), record.topic, shutdown_error(record.topic));
      }
      return reject(std::move(pending), record.topic,
                    Error(ErrorCode::kTimeout,
                          "producer buffer full: record for topic " + record.topic +
                              " not accepted within buffer_full_timeout (" +
                              std::to_string(options.buffer_full_timeout.count()) + " ms)",
                          ErrorContext::of_topic(record.topic), true));
    }
    const auto context = context_of(record.topic, record.partition.value_or(-1));
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      // librdkafka counts framing too, so this can trigger just under the limit.
      return reject(std::move(pending), record.topic,
                    Error(ErrorCode::kRecordTooLarge,
                          "record of " + std::to_string(record_bytes(record)) +
                              " bytes for topic " + record.topic +
                              " is too large once framed: " + rd_kafka_error_string(error.get()),
                          ErrorContext::of_topic(record.topic)));
    }
    return reject(std::move(pending), record.topic,
                  kafka::translate(error.get(), "cannot send record", context));
  }
}

void Producer::Impl::fail_pending() {
  // Purging makes librdkafka report every queued and in-flight record with a
  // purge error, which outcome_of turns into kShutdown. Several rounds,
  // because a send racing with close() may enqueue after a purge.
  for (int round = 0; round < kPurgeRounds && tracker.in_flight() > 0; ++round) {
    rd_kafka_purge(handle.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    tracker.wait_until_idle(Clock::now() + kPurgeRoundTimeout);
  }
  if (const auto left = tracker.in_flight(); left > 0) {
    spdlog::error("producer closed with {} records whose outcome never arrived", left);
  }
}

void Producer::Impl::close(std::chrono::milliseconds timeout) {
  std::lock_guard lock(close_mutex);
  if (!delivery_thread.joinable()) return;
  tracker.close();
  // Records waiting for a re-send fail at once instead of holding close()
  // up for their back-off; one being re-sent right now is waited for below.
  if (resends) fail_waiting(resends->stop());
  const auto deadline = Clock::now() + std::max(timeout, std::chrono::milliseconds::zero());
  if (!tracker.wait_until_idle(deadline)) {
    spdlog::warn("producer closing: {} records not delivered within {} ms fail with kShutdown",
                 tracker.in_flight(), timeout.count());
    fail_pending();
  }
  stop_delivery_thread();
}

Producer::Producer(ProducerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Producer::~Producer() {
  try {
    impl_->close(kDestructorCloseTimeout);
  } catch (const std::exception& error) {
    spdlog::error("closing the producer failed: {}", error.what());
  }
}

std::future<RecordMetadata> Producer::send(ProducerRecord record) {
  // Inside a handler, the record continues the handled record's trace.
  tracing::continue_current_trace(record.headers);
  std::promise<RecordMetadata> promise;
  auto future = promise.get_future();
  impl_->submit(record, std::make_unique<producer::PendingDelivery>(std::move(promise)));
  return future;
}

void Producer::send(ProducerRecord record, DeliveryCallback callback) {
  tracing::continue_current_trace(record.headers);
  impl_->submit(record, std::make_unique<producer::PendingDelivery>(std::move(callback)));
}

void Producer::flush(std::chrono::milliseconds timeout) {
  if (!impl_->tracker.wait_until_idle(Clock::now() + timeout)) {
    throw Error(ErrorCode::kTimeout, "flush timed out after " + std::to_string(timeout.count()) +
                                         " ms with " + std::to_string(impl_->tracker.in_flight()) +
                                         " records still in flight",
                {}, true);
  }
}

void Producer::close(std::chrono::milliseconds timeout) { impl_->close(timeout); }

std::size_t Producer::in_flight() const { return impl_->tracker.in_flight(); }

const ResolvedCluster& Producer::cluster() const { return impl_->cluster; }

}  // namespace whippet
