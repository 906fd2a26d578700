#pragma once

#include <filesystem>
#include <string_view>

#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/producer.h"

namespace whippet {

// Everything a Whippet process can be configured with. Every field has the
// documented default of its options struct; a YAML file overrides what it
// names, and environment variables override the file:
//   WHIPPET_BROKERS, WHIPPET_CLIENT_ID, WHIPPET_GROUP_ID,
//   WHIPPET_INITIAL_OFFSET (earliest|latest), WHIPPET_WORKER_THREADS.
//
// YAML shape (all keys optional):
//   cluster:  { brokers: "h:9092", client_id: svc, request_timeout_ms: 10000,
//               librdkafka: { "socket.keepalive.enable": "true" } }
//   producer: { acks: all|leader|none, idempotence: true, delivery_timeout_ms: 120000,
//               linger_ms: 5, max_record_bytes: 1000000, compression: none|gzip|snappy|lz4|zstd,
//               max_buffered_records: 100000, max_buffered_kilobytes: 1048576,
//               buffer_full_timeout_ms: 30000,
//               retry: none                                    # the default, or
//                      | { backoffs_ms: [100, 500, 1000] }
//                      | { infinite_ms: 1000 }
//                      | { exponential: { initial_ms: 100, multiplier: 2, max_ms: 30000,
//                                         max_attempts: 5 } } }
//                 # re-sends after a transient delivery failure (ProducerRetryPolicy in
//                 # whippet/producer.h); the back-off shapes of a consumer's blocking retry
//   consumer: { group_id: g, topics: [a, b], topic_pattern: "re", initial_offset: latest,
//               worker_threads: 4, max_queued_records_per_partition: 10000,
//               max_queued_bytes_per_partition: 4194304,
//               commit_interval_ms: 1000, drain_timeout_ms: 10000,
//               session_timeout_ms: 45000, max_poll_interval_ms: 300000,
//               assignment_strategy: cooperative-sticky|range|roundrobin,
//               dispatch: partition_ordered                       # the default, or
//                         | { key_ordered: { parallelism: 64 } }
//                         | { batched: { max_records: 500, max_bytes: 1048576, max_wait_ms: 100 } },
//               retry: { default: ..., topics: { ... }, topic_settings: { ... } } }
//                 # the shape parse_retry_policies reads (whippet/retry.h), e.g.
//                 #   retry:
//                 #     default: { blocking: { backoffs_ms: [100, 200] } }
//                 #     topics: { orders: { retry_topics: { backoffs_ms: [1000, 5000] } },
//                 #               metrics: none }
//                 #     topic_settings: { partitions: 4, replication_factor: 3 }
//   admin:    { operation_timeout_ms: 15000 }
// Unknown keys and values of the wrong type are errors naming the key and line.
// load_config/parse_config do not read the environment: call apply_environment.
struct WhippetConfig {
  ClusterOptions cluster;
  ProducerOptions producer;
  ConsumerOptions consumer;
  AdminOptions admin;
};

// Throws whippet::Error (kInvalidConfig) naming the file, key and problem.
WhippetConfig load_config(const std::filesystem::path& yaml_file);
WhippetConfig parse_config(std::string_view yaml_text);

// Applies the WHIPPET_* environment variables on top of `config`.
void apply_environment(WhippetConfig& config);

}  // namespace whippet
