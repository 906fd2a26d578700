#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "whippet/cluster.h"
#include "whippet/metrics.h"
#include "whippet/record.h"
#include "whippet/result.h"
#include "whippet/retry.h"

namespace whippet {

enum class Acks { kNone = 0, kLeader = 1, kAll = -1 };

enum class Compression { kNone, kGzip, kSnappy, kLz4, kZstd };

// Sending a record again after its delivery failed with a transient error.
//
// librdkafka already retries a record internally until delivery_timeout;
// this policy applies after that, once the delivery report says the record
// failed. Transient are: timeouts (message or request timed out, including
// delivery_timeout itself), broker transport failures and all brokers down,
// not enough replicas (before or after append), leader not available / not
// leader for the partition, and throttling (quota exceeded). Everything else
// fails at once: record too large, unknown topic (after the metadata wait),
// authorization, serialisation, invalid configuration, shutdown.
//
// After a transient failure the record waits out the back-off delay of its
// retry (1 for the first re-send) on a scheduler thread the producer owns
// (librdkafka's threads never sleep for it), then is sent again with its
// original topic, requested partition, key, value, headers and timestamp,
// under a fresh delivery_timeout. The future or callback gets exactly one
// outcome, the final one: success after a re-send, or the last error, whose
// message says how many attempts were made. While waiting, the record counts
// as in flight: flush() waits for it; close() fails it with kShutdown at once
// (and so does a transient failure reported while closing).
//
// Ordering: a re-sent record may land after records sent later. Idempotence
// covers librdkafka's own retries within one session (no duplicates, no
// reordering); to librdkafka a re-send is a new record, so it guarantees
// nothing about order across re-sends, and a record whose earlier attempt
// timed out after reaching the broker may even be stored twice. Do not rely
// on per-partition order, or on exactly-once storage, for retried records.
//
// Default: FixedBackOffs{} — no re-sends, the first failure is final.
struct ProducerRetryPolicy {
  BackOff back_off = FixedBackOffs{};
  bool operator==(const ProducerRetryPolicy&) const = default;
};

struct ProducerOptions {
  ClusterOptions cluster;

  // acks=all with idempotence: no duplicates, no reordering from retries.
  Acks acks = Acks::kAll;
  bool idempotence = true;

  // The time a record may take from send() to its delivery report, retries
  // included; past it the record fails with kTimeout (librdkafka's
  // delivery.timeout.ms).
  std::chrono::milliseconds delivery_timeout{120000};

  // How long to wait for more records to fill a batch (linger.ms).
  std::chrono::milliseconds linger{5};

  // Records larger than this fail at once with kRecordTooLarge
  // (message.max.bytes; the broker's own limit also applies).
  std::size_t max_record_bytes = 1000000;

  // Records and bytes buffered in memory before send() has to wait.
  std::size_t max_buffered_records = 100000;
  std::size_t max_buffered_kilobytes = 1048576;

  // When the buffer is full, send() waits up to this long for room, then
  // fails with kTimeout. Zero: fail at once.
  std::chrono::milliseconds buffer_full_timeout{30000};

  Compression compression = Compression::kNone;

  // Re-sending records whose delivery failed with a transient error (see
  // ProducerRetryPolicy). Default: none.
  ProducerRetryPolicy retry;

  // Where every record's outcome is reported as a metrics::DeliveryCompleted:
  // the time from send() to the delivery report, or the error. Default: none,
  // and then the producer does not even read the clock for it.
  metrics::MetricsReporter metrics;
};

// Called once per record with where it was stored or why it failed (the
// final outcome, after any re-sends of ProducerOptions::retry). The
// reference is valid only during the call (the records of one delivery
// report share one outcome object): copy what must outlive it. Runs on
// the producer's delivery thread: keep it short. Exceptions it throws are
// caught and logged. A record refused before it is queued (producer closed,
// larger than max_record_bytes, buffer still full after buffer_full_timeout)
// gets its outcome on the sending thread, before send() returns.
using DeliveryCallback = std::function<void(const Result<RecordMetadata>&)>;

// An asynchronous producer. Every record sent gets exactly one outcome:
// a delivery report or a typed Error; none is dropped silently.
// Thread-safe: many threads may send at once. send() also frees the memory
// of records whose outcome was handed over, one delivery report (a batch of
// records) per call: freed on a sending thread, usually the one that
// allocated it, it costs far less CPU than on the delivery thread (such a
// call takes tens of microseconds longer). A callback runs on the delivery
// thread: flush() there waits out its timeout (the callback's own outcome
// counts only once it returns), and send() there with a full buffer waits
// out buffer_full_timeout.
class Producer {
 public:
  explicit Producer(ProducerOptions options);
  // Flushes for up to 30 s, then reports what is still pending as failed.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // The future holds where the record was stored, or throws whippet::Error.
  // librdkafka copies the record before send() returns, and the caller's
  // record is left as it was: one record object may be changed and sent
  // again in a loop, copied by nothing but librdkafka. (Inside a handler, a
  // record without its own traceparent continues the handled record's
  // trace: its headers are then copied to add the trace's.)
  std::future<RecordMetadata> send(const ProducerRecord& record);
  void send(const ProducerRecord& record, DeliveryCallback callback);

  // Waits until every record sent so far has its outcome, records waiting
  // for a re-send (ProducerOptions::retry) included; throws kTimeout.
  void flush(std::chrono::milliseconds timeout);

  // Flushes, then stops: records still pending after the timeout fail with
  // kShutdown. Records waiting for a re-send fail with kShutdown at once, as
  // do records failing transiently while closing. Further sends fail with
  // kShutdown.
  void close(std::chrono::milliseconds timeout);

  // Records sent whose outcome is not known yet.
  std::size_t in_flight() const;

  const ResolvedCluster& cluster() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet
