#include "producer/producer_config.h"

#include <algorithm>
#include <string>

#include "whippet/error.h"

namespace whippet::producer {
namespace {

// librdkafka refuses message.max.bytes below this.
constexpr std::size_t kLibrdkafkaMinimumMessageMaxBytes = 1000;

// librdkafka compares message.max.bytes with a record's worst-case framed
// size (varints, record header, per-header overhead), while max_record_bytes
// counts key, value and headers only. The headroom keeps a record at the
// limit acceptable; batches stay bounded by batch.size, not by this.
constexpr std::size_t kFramingHeadroomBytes = 64 * 1024;

// librdkafka's default (30 s) would keep a record for a misspelt topic
// waiting long after the answer is known; 10 s still covers the time a
// freshly created topic needs to reach every broker.
constexpr std::chrono::milliseconds kMaximumUnknownTopicWait{10000};

const char* acks_value(Acks acks) {
  switch (acks) {
    case Acks::kNone:
      return "0";
    case Acks::kLeader:
      return "1";
    case Acks::kAll:
      return "all";
  }
  throw Error(ErrorCode::kInvalidConfig, "producer: unknown acks value");
}

const char* compression_value(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  throw Error(ErrorCode::kInvalidConfig, "producer: unknown compression value");
}

void require(bool condition, const std::string& problem) {
  if (!condition) throw Error(ErrorCode::kInvalidConfig, "producer: " + problem);
}

}  // namespace

void validate(const ProducerOptions& options) {
  // librdkafka reads message.timeout.ms=0 as "never time out", which would
  // break the promise that every record gets an outcome.
  require(options.delivery_timeout.count() > 0, "delivery_timeout must be positive");
  require(options.linger.count() >= 0, "linger must not be negative");
  require(options.linger < options.delivery_timeout,
          "linger (" + std::to_string(options.linger.count()) +
              " ms) must be shorter than delivery_timeout (" +
              std::to_string(options.delivery_timeout.count()) + " ms)");
  require(options.max_record_bytes > 0, "max_record_bytes must be positive");
  require(options.max_buffered_records > 0, "max_buffered_records must be positive");
  require(options.max_buffered_kilobytes > 0, "max_buffered_kilobytes must be positive");
  require(options.buffer_full_timeout.count() >= 0, "buffer_full_timeout must not be negative");
  require(!options.idempotence || options.acks == Acks::kAll,
          "idempotence requires acks=all (set idempotence to false to use other acks)");
}

std::chrono::milliseconds unknown_topic_timeout(const ProducerOptions& options) {
  return std::min(options.delivery_timeout, kMaximumUnknownTopicWait);
}

kafka::Properties producer_properties(const ResolvedCluster& cluster,
                                      const ProducerOptions& options) {
  auto properties = kafka::cluster_properties(cluster, options.cluster);
  properties["acks"] = acks_value(options.acks);
  properties["enable.idempotence"] = options.idempotence ? "true" : "false";
  properties["message.timeout.ms"] = std::to_string(options.delivery_timeout.count());
  properties["linger.ms"] = std::to_string(options.linger.count());
  // Whippet checks max_record_bytes itself before enqueueing, exactly; so
  // librdkafka's own check only needs to let such records through.
  properties["message.max.bytes"] = std::to_string(
      std::max(options.max_record_bytes + kFramingHeadroomBytes, kLibrdkafkaMinimumMessageMaxBytes));
  properties["queue.buffering.max.messages"] = std::to_string(options.max_buffered_records);
  properties["queue.buffering.max.kbytes"] = std::to_string(options.max_buffered_kilobytes);
  properties["compression.type"] = compression_value(options.compression);
  properties["topic.metadata.propagation.max.ms"] =
      std::to_string(unknown_topic_timeout(options).count());
  // The Java client's partitioner: records of a key land in the same
  // partition whether a JVM service or Whippet produced them.
  properties["partitioner"] = "murmur2_random";
  return properties;
}

}  // namespace whippet::producer
