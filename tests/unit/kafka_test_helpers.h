#pragma once

// Raw librdkafka helpers for unit tests: they read and commit without the
// SDK under test, so that a test checks the SDK against librdkafka itself.

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kafka/client_config.h"
#include "kafka/handles.h"
#include "kafka/record_conversion.h"
#include "support/test_cluster.h"
#include "whippet/record.h"

namespace whippet::testing {

inline kafka::KafkaHandle raw_consumer(const std::string& bootstrap, const std::string& group) {
  const kafka::Properties properties = {
      {"bootstrap.servers", bootstrap},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "earliest"},
      {"broker.address.family", "v4"},
  };
  return kafka::create_client(RD_KAFKA_CONSUMER, kafka::build_conf(properties, {}));
}

// Reads `expected` records from the start of every partition of `topic`
// (without joining a group), or whatever arrived when the timeout passes.
inline std::vector<Record> read_records(const std::string& bootstrap, const std::string& topic,
                                        int partitions, std::size_t expected,
                                        std::chrono::milliseconds timeout) {
  auto consumer = raw_consumer(bootstrap, unique_name("reader"));
  auto assignment = kafka::make_partition_list(partitions);
  for (int partition = 0; partition < partitions; ++partition) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(consumer.get(), assignment.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<Record> records;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (records.size() < expected && std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    records.push_back(kafka::to_record(*message));
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

// Commits `offset` (with metadata) for a group, as a consumer of that group would.
inline void commit_offset(const std::string& bootstrap, const std::string& group,
                          const std::string& topic, int32_t partition, int64_t offset,
                          const std::string& metadata) {
  auto consumer = raw_consumer(bootstrap, group);
  auto offsets = kafka::make_partition_list(1);
  auto* entry = rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition);
  entry->offset = offset;
  entry->metadata = strdup(metadata.c_str());  // the list frees it
  entry->metadata_size = metadata.size();
  ASSERT_EQ(rd_kafka_commit(consumer.get(), offsets.get(), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_consumer_close(consumer.get());
}

}  // namespace whippet::testing
