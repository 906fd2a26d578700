// Producer::Impl's sending and closing side; delivery_reports.cc has the
// delivery thread's.

#include "whippet/producer.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "cluster/embedded_registry.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"
#include "kafka/record_conversion.h"
#include "producer/producer_config.h"
#include "producer/producer_errors.h"
#include "producer/producer_impl.h"
#include "tracing/propagation.h"

namespace whippet {
namespace {

using Clock = std::chrono::steady_clock;
using producer::context_of;
using producer::record_too_large;
using producer::shutdown_error;
using producer::with_attempts;

// After purging, outcomes arrive within milliseconds; each purge round waits
// this long, and the rounds catch sends that raced with close().
constexpr std::chrono::milliseconds kPurgeRoundTimeout{1000};
constexpr int kPurgeRounds = 5;

constexpr std::chrono::milliseconds kDestructorCloseTimeout{30000};

// How long a sender past its buffer_full_timeout waits for a report another
// thread is destroying (freeing thousands of records takes milliseconds).
constexpr std::chrono::milliseconds kDestroyerWait{100};

std::size_t key_and_value_bytes(const ProducerRecord& record) {
  return (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
}

// `headers` are the ones to send, which may differ from the record's own
// (see tracing::continue_current_trace).
std::size_t record_bytes(const ProducerRecord& record, const Headers& headers) {
  std::size_t size = key_and_value_bytes(record);
  for (const auto& header : headers) {
    size += header.key.size() + (header.value ? header.value->size() : 0);
  }
  return size;
}

// The same for a record whose headers are already librdkafka's.
std::size_t record_bytes(const ProducerRecord& record, const rd_kafka_headers_t* headers) {
  std::size_t size = key_and_value_bytes(record);
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t value_size = 0;
  for (std::size_t index = 0;
       headers != nullptr &&
       rd_kafka_header_get_all(headers, index, &name, &value, &value_size) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
       ++index) {
    size += std::strlen(name) + value_size;
  }
  return size;
}

}  // namespace

Producer::Impl::Impl(ProducerOptions producer_options)
    : options(std::move(producer_options)), cluster(resolve_cluster(options.cluster)) {
  producer::validate(options);
  mock_cluster = cluster.is_embedded() || cluster::is_embedded_address(cluster.bootstrap_servers);
  auto conf = kafka::build_conf(producer::producer_properties(cluster, options),
                                options.cluster.librdkafka_properties);
  // Callbacks are wired here, after the properties, so that raw overrides
  // can never replace them.
  // Delivery reports and errors come as events, which the delivery thread
  // serves (run_delivery_loop): a delivery report event holds many records,
  // and can be destroyed later, on a sending thread (see SpentReports).
  rd_kafka_conf_set_events(conf.get(), RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
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
  // Sticky: wakes the current rd_kafka_queue_poll or makes the next return.
  rd_kafka_queue_yield(main_queue.get());
  delivery_thread.join();
  spent_reports.destroy_all();
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

void Producer::Impl::reject(std::unique_ptr<producer::PendingDelivery> pending,
                            const std::string& topic, Error error) {
  // A re-sent record refused by librdkafka says how often it was tried.
  complete(*pending, topic, with_attempts(std::move(error), pending->attempts()));
  tracker.finish();
}

void Producer::Impl::submit(const ProducerRecord& record, const Headers& headers_to_send,
                            std::unique_ptr<producer::PendingDelivery> pending) {
  // Read only when someone collects metrics: the clock is not free.
  if (options.metrics.enabled()) pending->set_send_time(Clock::now());
  if (record.topic.empty()) {
    complete(*pending, record.topic,
             Error(ErrorCode::kInvalidArgument, "cannot send a record without a topic"));
    return;
  }
  if (const auto size = record_bytes(record, headers_to_send); size > options.max_record_bytes) {
    complete(*pending, record.topic,
             record_too_large(record.topic, size, options.max_record_bytes));
    return;
  }
  // Converted before counting the record, so that a failure here cannot
  // leave the in-flight count wrong.
  kafka::HeadersHandle headers;
  if (!headers_to_send.empty()) headers = kafka::to_kafka_headers(headers_to_send);
  if (!tracker.try_start()) {
    complete(*pending, record.topic, shutdown_error(record.topic));
    return;
  }
  if (mock_cluster) {
    pending->set_create_time(record.timestamp ? kafka::to_milliseconds(*record.timestamp)
                                              : kafka::to_milliseconds(Timestamp::clock::now()));
  }
  if (record.partition) pending->set_requested_partition(*record.partition);
  // One spent delivery report per send is enough to keep up: each holds
  // many records.
  if (spent_reports.destroy_one()) tracker.room_may_be_free();
  enqueue(record, std::move(headers), std::move(pending));
}

void Producer::Impl::enqueue(const ProducerRecord& record, kafka::HeadersHandle headers,
                             std::unique_ptr<producer::PendingDelivery> pending) {
  // Room comes back when a delivery report is destroyed (see SpentReports).
  // The room mark is read only once the buffer was found full, before
  // destroying reports, and the record is tried once more before waiting:
  // that attempt finds room made before the mark was read, and room made
  // after it moves the mark. (Reading it before every first attempt would
  // fetch a cache line the delivery thread keeps writing, on every record.)
  // A plain pair, not an optional: GCC's -Wmaybe-uninitialized misreads
  // the optional under ThreadSanitizer's instrumentation.
  std::uint64_t seen_room = 0;
  bool room_seen = false;
  Clock::time_point deadline{};
  bool deadline_set = false;
  bool waited_for_destroyer = false;
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
      if (!deadline_set) {
        deadline = Clock::now() + options.buffer_full_timeout;
        deadline_set = true;
      }
      const auto mark = tracker.room_mark();
      // Records with their outcome may still hold room.
      if (spent_reports.destroy_all() > 0) {
        // Other senders may wait for that room too.
        tracker.room_may_be_free();
        room_seen = false;
        continue;
      }
      if (!room_seen) {
        seen_room = mark;
        room_seen = true;
        continue;
      }
      // The only place send() blocks: wait for deliveries to make room.
      if (Clock::now() < deadline && tracker.wait_for_room(seen_room, deadline)) {
        room_seen = false;
        continue;
      }
      // Past the deadline while another thread destroys a report it took:
      // that room is moments away (even with buffer_full_timeout 0, a
      // buffer whose records all have their outcome is not full).
      if (!waited_for_destroyer && spent_reports.destroying()) {
        waited_for_destroyer = true;
        if (tracker.wait_for_room(seen_room, Clock::now() + kDestroyerWait)) {
          room_seen = false;
          continue;
        }
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
                          "record of " + std::to_string(record_bytes(record, headers.get())) +
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
  // purge error, which failure_of turns into kShutdown. Several rounds,
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

std::future<RecordMetadata> Producer::send(const ProducerRecord& record) {
  std::promise<RecordMetadata> promise;
  auto future = promise.get_future();
  // Inside a handler, the record continues the handled record's trace.
  std::optional<Headers> traced;
  impl_->submit(record, tracing::continue_current_trace(record.headers, traced),
                std::make_unique<producer::PendingDelivery>(std::move(promise)));
  return future;
}

void Producer::send(const ProducerRecord& record, DeliveryCallback callback) {
  std::optional<Headers> traced;
  impl_->submit(record, tracing::continue_current_trace(record.headers, traced),
                std::make_unique<producer::PendingDelivery>(std::move(callback)));
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
