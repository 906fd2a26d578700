#pragma once

// Every librdkafka object Whippet holds is owned by one of these.

#include <memory>

#include <librdkafka/rdkafka.h>

namespace whippet::kafka {

struct KafkaDeleter {
  void operator()(rd_kafka_t* handle) const noexcept { rd_kafka_destroy(handle); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
};
struct TopicPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const noexcept {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const noexcept { rd_kafka_message_destroy(message); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const noexcept { rd_kafka_queue_destroy(queue); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const noexcept { rd_kafka_event_destroy(event); }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const noexcept { rd_kafka_error_destroy(error); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* headers) const noexcept { rd_kafka_headers_destroy(headers); }
};
struct ConsumerGroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const noexcept {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const noexcept {
    rd_kafka_metadata_destroy(metadata);
  }
};

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const noexcept {
    rd_kafka_AdminOptions_destroy(options);
  }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const noexcept { rd_kafka_NewTopic_destroy(topic); }
};
struct DeleteTopicDeleter {
  void operator()(rd_kafka_DeleteTopic_t* topic) const noexcept {
    rd_kafka_DeleteTopic_destroy(topic);
  }
};
struct ListConsumerGroupOffsetsDeleter {
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* request) const noexcept {
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
  }
};
struct GroupListDeleter {
  void operator()(const rd_kafka_group_list* list) const noexcept {
    rd_kafka_group_list_destroy(list);
  }
};

using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using TopicPartitionListHandle =
    std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter>;
using MessageHandle = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using QueueHandle = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventHandle = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using ErrorHandle = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;
using HeadersHandle = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;
using ConsumerGroupMetadataHandle =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, ConsumerGroupMetadataDeleter>;
using MetadataHandle = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using AdminOptionsHandle = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;
using NewTopicHandle = std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>;
using DeleteTopicHandle = std::unique_ptr<rd_kafka_DeleteTopic_t, DeleteTopicDeleter>;
using ListConsumerGroupOffsetsHandle =
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, ListConsumerGroupOffsetsDeleter>;
using GroupListHandle = std::unique_ptr<const rd_kafka_group_list, GroupListDeleter>;

inline TopicPartitionListHandle make_partition_list(int capacity) {
  return TopicPartitionListHandle(rd_kafka_topic_partition_list_new(capacity));
}

}  // namespace whippet::kafka
