#include "config/configuration_sections.h"

#include "retry/retry_policy_parsing.h"

namespace whippet::config {
namespace {

// A size that must be at least 1.
void read_positive(YamlSection& section, const char* key, std::size_t& target) {
  section.read(key, target);
  if (target == 0) section.fail(key, "must be at least 1");
}

// `partition_ordered` | `key_ordered` | `batched` (with their defaults), or
// a mapping with one of them: { key_ordered: { parallelism: 64 } },
// { batched: { max_records: 500, max_bytes: 1048576, max_wait_ms: 100 } }.
DispatchMode read_dispatch(YamlSection& parent) {
  const auto value = parent.node("dispatch");
  if (!value) return PartitionOrdered{};
  std::string kind;
  std::optional<YamlSection> section;
  if (value->IsScalar()) {
    kind = value->Scalar();
  } else {
    section = parent.section("dispatch");
    kind = section->one_of({"partition_ordered", "key_ordered", "batched"});
  }
  auto settings = section ? section->section(kind.c_str()) : std::nullopt;
  if (kind == "partition_ordered") {
    if (settings) settings->reject_unknown_keys();
    return PartitionOrdered{};
  }
  if (kind == "key_ordered") {
    KeyOrdered mode;
    if (settings) {
      read_positive(*settings, "parallelism", mode.parallelism);
      settings->reject_unknown_keys();
    }
    return mode;
  }
  if (kind == "batched") {
    Batched mode;
    if (settings) {
      read_positive(*settings, "max_records", mode.max_records);
      read_positive(*settings, "max_bytes", mode.max_bytes);
      settings->read_milliseconds("max_wait_ms", mode.max_wait);
      settings->reject_unknown_keys();
    }
    return mode;
  }
  parent.fail("dispatch", "\"" + kind + "\" is not one of partition_ordered, key_ordered, batched");
}

// `none`, or a back-off: { backoffs_ms: [...] } | { infinite_ms: N } |
// { exponential: { ... } }, the shapes of a consumer's blocking retry.
void read_producer_retry(YamlSection& parent, ProducerRetryPolicy& policy) {
  const auto value = parent.node("retry");
  if (!value) return;
  if (value->IsScalar()) {
    if (value->Scalar() != "none") {
      parent.fail("retry", "\"" + value->Scalar() +
                               "\" is not a retry policy: expected none or one of "
                               "{ backoffs_ms: [...] }, { infinite_ms: N }, { exponential: {...} }");
    }
    policy.back_off = FixedBackOffs{};
    return;
  }
  if (!value->IsMap()) {
    parent.fail("retry", "expected none or a back-off mapping: { backoffs_ms: [...] }, "
                         "{ infinite_ms: N } or { exponential: {...} }");
  }
  auto section = parent.section("retry");
  policy.back_off = retry::read_back_off(*section);
}

}  // namespace

void read_cluster(YamlSection& section, ClusterOptions& options) {
  section.read("brokers", options.brokers);
  section.read("client_id", options.client_id);
  section.read_milliseconds("request_timeout_ms", options.request_timeout);
  section.read("librdkafka", options.librdkafka_properties);
  section.reject_unknown_keys();
}

void read_producer(YamlSection& section, ProducerOptions& options) {
  // Numeric spellings are accepted too: they are what librdkafka and the
  // Java client call the same settings.
  section.read_choice("acks", options.acks,
                      {{"all", Acks::kAll}, {"-1", Acks::kAll}, {"leader", Acks::kLeader},
                       {"1", Acks::kLeader}, {"none", Acks::kNone}, {"0", Acks::kNone}});
  section.read("idempotence", options.idempotence);
  section.read_milliseconds("delivery_timeout_ms", options.delivery_timeout);
  section.read_milliseconds("linger_ms", options.linger);
  section.read("max_record_bytes", options.max_record_bytes);
  section.read("max_buffered_records", options.max_buffered_records);
  section.read("max_buffered_kilobytes", options.max_buffered_kilobytes);
  section.read_milliseconds("buffer_full_timeout_ms", options.buffer_full_timeout);
  section.read_choice("compression", options.compression,
                      {{"none", Compression::kNone},
                       {"gzip", Compression::kGzip},
                       {"snappy", Compression::kSnappy},
                       {"lz4", Compression::kLz4},
                       {"zstd", Compression::kZstd}});
  read_producer_retry(section, options.retry);
  section.reject_unknown_keys();
}

void read_consumer(YamlSection& section, ConsumerOptions& options) {
  section.read("group_id", options.group_id);
  section.read("topics", options.topics);
  section.read("topic_pattern", options.topic_pattern);
  section.read_choice("initial_offset", options.initial_offset,
                      {{"earliest", InitialOffset::kEarliest}, {"latest", InitialOffset::kLatest}});
  section.read("worker_threads", options.worker_threads);
  section.read("max_queued_records_per_partition", options.max_queued_records_per_partition);
  section.read("max_queued_bytes_per_partition", options.max_queued_bytes_per_partition);
  section.read_milliseconds("commit_interval_ms", options.commit_interval);
  section.read_milliseconds("drain_timeout_ms", options.drain_timeout);
  section.read_milliseconds("session_timeout_ms", options.session_timeout);
  section.read_milliseconds("max_poll_interval_ms", options.max_poll_interval);
  section.read_choice("assignment_strategy", options.assignment_strategy,
                      {{"cooperative-sticky", AssignmentStrategy::kCooperativeSticky},
                       {"range", AssignmentStrategy::kRange},
                       {"roundrobin", AssignmentStrategy::kRoundRobin}});
  options.dispatch = read_dispatch(section);
  if (auto retry = section.section("retry")) options.retry = retry::read_retry_policies(*retry);
  section.reject_unknown_keys();
}

void read_admin(YamlSection& section, AdminOptions& options) {
  section.read_milliseconds("operation_timeout_ms", options.operation_timeout);
  section.reject_unknown_keys();
}

void share_cluster(WhippetConfig& config) {
  config.producer.cluster = config.cluster;
  config.consumer.cluster = config.cluster;
  config.admin.cluster = config.cluster;
}

}  // namespace whippet::config
