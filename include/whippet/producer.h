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

namespace whippet {

enum class Acks { kNone = 0, kLeader = 1, kAll = -1 };

enum class Compression { kNone, kGzip, kSnappy, kLz4, kZstd };

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

  // Where every record's outcome is reported as a metrics::DeliveryCompleted:
  // the time from send() to the delivery report, or the error. Default: none,
  // and then the producer does not even read the clock for it.
  metrics::MetricsReporter metrics;
};

// Called once per record with where it was stored or why it failed. Runs on
// the producer's delivery thread: keep it short. Exceptions it throws are
// caught and logged. A record refused before it is queued (producer closed,
// larger than max_record_bytes, buffer still full after buffer_full_timeout)
// gets its outcome on the sending thread, before send() returns.
using DeliveryCallback = std::function<void(const Result<RecordMetadata>&)>;

// An asynchronous producer. Every record sent gets exactly one outcome:
// a delivery report or a typed Error; none is dropped silently.
// Thread-safe: many threads may send at once.
class Producer {
 public:
  explicit Producer(ProducerOptions options);
  // Flushes for up to 30 s, then reports what is still pending as failed.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // The future holds where the record was stored, or throws whippet::Error.
  std::future<RecordMetadata> send(ProducerRecord record);
  void send(ProducerRecord record, DeliveryCallback callback);

  // Waits until every record sent so far has its outcome; throws kTimeout.
  void flush(std::chrono::milliseconds timeout);

  // Flushes, then stops: records still pending after the timeout fail with
  // kShutdown. Further sends fail with kShutdown.
  void close(std::chrono::milliseconds timeout);

  // Records sent whose outcome is not known yet.
  std::size_t in_flight() const;

  const ResolvedCluster& cluster() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet
