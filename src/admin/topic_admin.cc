#include "admin/topic_admin.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "cluster/embedded_registry.h"
#include "kafka/error_translation.h"
#include "whippet/embedded_cluster.h"

namespace whippet::admin {
namespace {

constexpr std::chrono::milliseconds kFirstLeaderBackoff{20};
constexpr std::chrono::milliseconds kLastLeaderBackoff{500};

// Errors of a partition whose leadership is still being settled, as right
// after the topic was created or a broker restarted.
bool is_leader_moving(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
         err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
         err == RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH;
}

// Kafka's internal topics (__consumer_offsets, __transaction_state) all
// start with two underscores; metadata does not flag them otherwise.
bool is_internal(const std::string& topic) { return topic.rfind("__", 0) == 0; }

const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& metadata,
                                            const std::string& name) {
  for (int index = 0; index < metadata.topic_cnt; ++index) {
    if (name == metadata.topics[index].topic) return &metadata.topics[index];
  }
  return nullptr;
}

// Metadata of one topic, or kUnknownTopic. Asks for all topics because a
// request naming the topic could create it on a broker that auto-creates.
const rd_kafka_metadata_topic_t& require_topic(AdminConnection& connection,
                                               const rd_kafka_metadata_t& metadata,
                                               const std::string& name, const std::string& what) {
  const auto* topic = find_topic(metadata, name);
  if (topic == nullptr || topic->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    throw Error(ErrorCode::kUnknownTopic, what + ": topic " + name + " does not exist",
                ErrorContext::of_topic(name));
  }
  if (topic->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw connection.failure(topic->err, what, ErrorContext::of_topic(name));
  }
  return *topic;
}

void create_on_mock(AdminConnection& connection, const NewTopic& topic, bool if_not_exists) {
  if (!topic.configs.empty()) {
    // The mock keeps no topic configs; the topic still works without them.
    spdlog::warn("embedded cluster ignores the configs of topic {} (it has no topic configs)",
                 topic.name);
  }
  if (if_not_exists) {
    const auto metadata = connection.all_metadata("cannot create topic " + topic.name);
    if (find_topic(*metadata, topic.name) != nullptr) return;
  }
  const auto& cluster = connection.cluster();
  if (cluster.embedded) {
    cluster.embedded->create_topic(topic.name, topic.partitions, topic.replication_factor);
  } else if (!cluster::create_embedded_topic(cluster.bootstrap_servers, topic.name,
                                             topic.partitions, topic.replication_factor)) {
    throw Error(ErrorCode::kUnsupported,
                "cannot create topic " + topic.name + ": the embedded cluster at " +
                    cluster.bootstrap_servers + " is gone",
                ErrorContext::of_topic(topic.name));
  }
}

}  // namespace

void create_topic(AdminConnection& connection, const NewTopic& topic, bool if_not_exists) {
  const auto what = "cannot create topic " + topic.name;
  const auto context = ErrorContext::of_topic(topic.name);
  if (topic.name.empty()) throw Error(ErrorCode::kInvalidArgument, "topic name must not be empty");
  if (connection.is_mock()) return create_on_mock(connection, topic, if_not_exists);

  char error_text[512];
  kafka::NewTopicHandle new_topic(rd_kafka_NewTopic_new(
      topic.name.c_str(), topic.partitions, topic.replication_factor, error_text, sizeof error_text));
  if (!new_topic) throw Error(ErrorCode::kInvalidArgument, what + ": " + error_text, context);
  for (const auto& [name, value] : topic.configs) {
    const auto err = rd_kafka_NewTopic_set_config(new_topic.get(), name.c_str(), value.c_str());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw kafka::translate(err, what + ": config " + name + "=" + value, context);
    }
  }
  auto* topics = new_topic.get();
  const auto event = connection.run(
      RD_KAFKA_ADMIN_OP_CREATETOPICS, what, context,
      [&](const rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreateTopics(connection.handle(), &topics, 1, options, queue);
      });
  std::size_t count = 0;
  const auto** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (std::size_t index = 0; index < count; ++index) {
    const auto err = rd_kafka_topic_result_error(results[index]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && if_not_exists) continue;
    const char* detail = rd_kafka_topic_result_error_string(results[index]);
    throw Error(err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? ErrorCode::kInvalidArgument
                                                              : kafka::code_for(err),
                what + ": " + (detail != nullptr ? detail : rd_kafka_err2str(err)), context);
  }
}

void delete_topic(AdminConnection& connection, const std::string& name) {
  const auto what = "cannot delete topic " + name;
  const auto context = ErrorContext::of_topic(name);
  if (connection.is_mock()) {
    throw Error(ErrorCode::kUnsupported,
                what + ": the embedded cluster (librdkafka mock) cannot delete topics; use a new "
                       "topic name instead, or a real cluster (set brokers)",
                context);
  }
  kafka::DeleteTopicHandle delete_request(rd_kafka_DeleteTopic_new(name.c_str()));
  auto* requests = delete_request.get();
  const auto event = connection.run(
      RD_KAFKA_ADMIN_OP_DELETETOPICS, what, context,
      [&](const rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DeleteTopics(connection.handle(), &requests, 1, options, queue);
      });
  std::size_t count = 0;
  const auto** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  for (std::size_t index = 0; index < count; ++index) {
    const auto err = rd_kafka_topic_result_error(results[index]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      throw Error(ErrorCode::kUnknownTopic, what + ": topic does not exist", context);
    }
    const char* detail = rd_kafka_topic_result_error_string(results[index]);
    throw Error(kafka::code_for(err),
                what + ": " + (detail != nullptr ? detail : rd_kafka_err2str(err)), context);
  }
}

std::vector<std::string> list_topics(AdminConnection& connection, bool include_internal) {
  const auto metadata = connection.all_metadata("cannot list topics");
  std::vector<std::string> names;
  for (int index = 0; index < metadata->topic_cnt; ++index) {
    const auto& topic = metadata->topics[index];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (!include_internal && is_internal(topic.topic)) continue;
    names.emplace_back(topic.topic);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Watermarks query_watermarks(AdminConnection& connection, const std::string& topic,
                            int32_t partition) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + connection.options().operation_timeout;
  auto backoff = kFirstLeaderBackoff;
  for (;;) {
    Watermarks watermarks;
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const auto err = rd_kafka_query_watermark_offsets(
        connection.handle(), topic.c_str(), partition, &watermarks.low, &watermarks.high,
        static_cast<int>(std::max(remaining, std::chrono::milliseconds(1)).count()));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return watermarks;
    if (!is_leader_moving(err) || Clock::now() + backoff >= deadline) {
      throw connection.failure(err, "cannot read the offsets",
                               ErrorContext::of_topic(topic, partition));
    }
    // librdkafka does not retry ListOffsets on these errors, and nothing
    // signals when a leader is ready: a partition created a moment ago
    // answers NOT_LEADER for a few milliseconds. A short, growing pause
    // bounded by operation_timeout is the only option.
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kLastLeaderBackoff);
  }
}

std::vector<int32_t> partitions_of(AdminConnection& connection, const std::string& topic) {
  const auto what = "cannot describe topic " + topic;
  const auto metadata = connection.all_metadata(what);
  const auto& found = require_topic(connection, *metadata, topic, what);
  std::vector<int32_t> partitions;
  for (int index = 0; index < found.partition_cnt; ++index) {
    partitions.push_back(found.partitions[index].id);
  }
  std::sort(partitions.begin(), partitions.end());
  return partitions;
}

TopicDescription describe_topic(AdminConnection& connection, const std::string& name) {
  const auto what = "cannot describe topic " + name;
  const auto metadata = connection.all_metadata(what);
  const auto& topic = require_topic(connection, *metadata, name, what);
  TopicDescription description;
  description.name = name;
  for (int index = 0; index < topic.partition_cnt; ++index) {
    const auto& partition = topic.partitions[index];
    PartitionDescription entry;
    entry.partition = partition.id;
    entry.leader = partition.leader;
    entry.replicas.assign(partition.replicas, partition.replicas + partition.replica_cnt);
    entry.in_sync_replicas.assign(partition.isrs, partition.isrs + partition.isr_cnt);
    const auto watermarks = query_watermarks(connection, name, partition.id);
    entry.low_watermark = watermarks.low;
    entry.high_watermark = watermarks.high;
    description.partitions.push_back(std::move(entry));
  }
  std::sort(description.partitions.begin(), description.partitions.end(),
            [](const auto& left, const auto& right) { return left.partition < right.partition; });
  return description;
}

}  // namespace whippet::admin
