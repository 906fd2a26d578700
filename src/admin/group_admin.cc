#include "admin/group_admin.h"

#include <algorithm>
#include <optional>

#include "admin/topic_admin.h"
#include "cluster/embedded_registry.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"

namespace whippet::admin {
namespace {

struct CommittedOffset {
  TopicPartition topic_partition;
  std::optional<int64_t> offset;
  std::string metadata;
};

// Reads one partition-list entry of an OffsetFetch answer.
CommittedOffset committed_entry(const rd_kafka_topic_partition_t& entry,
                                const std::string& group_id) {
  if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto context = ErrorContext::of_topic(entry.topic, entry.partition);
    context.group = group_id;
    throw kafka::translate(entry.err, "cannot read committed offset", std::move(context));
  }
  CommittedOffset committed;
  committed.topic_partition = TopicPartition{entry.topic, entry.partition};
  // A negative offset (RD_KAFKA_OFFSET_INVALID) means the group never committed.
  if (entry.offset >= 0) committed.offset = entry.offset;
  if (entry.metadata != nullptr) {
    committed.metadata.assign(static_cast<const char*>(entry.metadata), entry.metadata_size);
  }
  return committed;
}

// committed() of a consumer that never subscribes, so it never joins the
// group and cannot disturb its members. Works on the mock as well.
std::vector<CommittedOffset> committed_offsets(AdminConnection& connection,
                                               const std::string& group_id,
                                               const std::vector<std::string>& topics) {
  auto request = kafka::make_partition_list(static_cast<int>(topics.size()));
  for (const auto& topic : topics) {
    for (const auto partition : partitions_of(connection, topic)) {
      rd_kafka_topic_partition_list_add(request.get(), topic.c_str(), partition);
    }
  }
  const auto& options = connection.options();
  auto properties = kafka::cluster_properties(connection.cluster(), options.cluster);
  properties["group.id"] = group_id;
  properties["enable.auto.commit"] = "false";
  auto consumer = kafka::create_client(
      RD_KAFKA_CONSUMER, kafka::build_conf(properties, options.cluster.librdkafka_properties));
  const auto err =
      rd_kafka_committed(consumer.get(), request.get(), connection.timeout_milliseconds());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw connection.failure(err, "cannot read the committed offsets of group " + group_id,
                             ErrorContext::of_group(group_id));
  }
  std::vector<CommittedOffset> offsets;
  for (int index = 0; index < request->cnt; ++index) {
    offsets.push_back(committed_entry(request->elems[index], group_id));
  }
  return offsets;
}

// Every partition the group committed to, through the admin API. Real
// clusters only: librdkafka 2.0.2's mock aborts the process on this call.
std::vector<CommittedOffset> all_committed_offsets(AdminConnection& connection,
                                                   const std::string& group_id) {
  const auto what = "cannot list the committed offsets of group " + group_id;
  const auto context = ErrorContext::of_group(group_id);
  kafka::ListConsumerGroupOffsetsHandle request(
      rd_kafka_ListConsumerGroupOffsets_new(group_id.c_str(), nullptr));
  auto* requests = request.get();
  const auto event = connection.run(
      RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, what, context,
      [&](const rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_ListConsumerGroupOffsets(connection.handle(), &requests, 1, options, queue);
      });
  std::size_t count = 0;
  const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
  std::vector<CommittedOffset> offsets;
  for (std::size_t index = 0; index < count; ++index) {
    if (const auto* error = rd_kafka_group_result_error(groups[index])) {
      throw kafka::translate(error, what, context);
    }
    const auto* partitions = rd_kafka_group_result_partitions(groups[index]);
    if (partitions == nullptr) continue;
    for (int entry = 0; entry < partitions->cnt; ++entry) {
      offsets.push_back(committed_entry(partitions->elems[entry], group_id));
    }
  }
  std::sort(offsets.begin(), offsets.end(), [](const auto& left, const auto& right) {
    return left.topic_partition < right.topic_partition;
  });
  return offsets;
}

}  // namespace

std::vector<GroupListing> list_groups(AdminConnection& connection) {
  const rd_kafka_group_list* raw_list = nullptr;
  const auto err =
      rd_kafka_list_groups(connection.handle(), nullptr, &raw_list, connection.timeout_milliseconds());
  kafka::GroupListHandle list(raw_list);
  std::vector<GroupListing> groups;
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE && connection.is_mock()) {
    // The mock has no ListGroups; answer with the groups Whippet consumers
    // of this process noted (cluster/embedded_registry.h).
    for (auto& group : cluster::embedded_groups(connection.cluster().bootstrap_servers)
                           .value_or(std::vector<std::string>{})) {
      groups.push_back(GroupListing{std::move(group), "", "consumer"});
    }
    return groups;
  }
  // With several brokers, some may answer and others not: librdkafka then
  // reports __PARTIAL together with what it got, which is still useful.
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__PARTIAL) {
    throw connection.failure(err, "cannot list consumer groups", {});
  }
  connection.succeeded();
  for (int index = 0; list && index < list->group_cnt; ++index) {
    const auto& group = list->groups[index];
    groups.push_back(GroupListing{group.group, group.state != nullptr ? group.state : "",
                                  group.protocol_type != nullptr ? group.protocol_type : ""});
  }
  std::sort(groups.begin(), groups.end(),
            [](const auto& left, const auto& right) { return left.group_id < right.group_id; });
  return groups;
}

std::vector<PartitionLag> group_lag(AdminConnection& connection, const std::string& group_id,
                                    const std::vector<std::string>& topics) {
  if (group_id.empty()) throw Error(ErrorCode::kInvalidArgument, "group id must not be empty");
  std::vector<CommittedOffset> committed;
  if (!topics.empty()) {
    committed = committed_offsets(connection, group_id, topics);
  } else if (connection.is_mock()) {
    throw Error(ErrorCode::kUnsupported,
                "cannot find the topics of group " + group_id +
                    " on the embedded cluster (librdkafka mock): name the topics to report lag for",
                ErrorContext::of_group(group_id));
  } else {
    committed = all_committed_offsets(connection, group_id);
  }
  std::vector<PartitionLag> lags;
  lags.reserve(committed.size());
  for (auto& entry : committed) {
    const auto watermarks = query_watermarks(connection, entry.topic_partition.topic,
                                             entry.topic_partition.partition);
    PartitionLag lag;
    lag.topic_partition = std::move(entry.topic_partition);
    lag.committed_offset = entry.offset;
    lag.committed_metadata = std::move(entry.metadata);
    lag.high_watermark = watermarks.high;
    // Without a commit the whole retained log is ahead of the group.
    const auto position = entry.offset.value_or(watermarks.low);
    lag.lag = std::max<int64_t>(0, watermarks.high - position);
    lags.push_back(std::move(lag));
  }
  return lags;
}

}  // namespace whippet::admin
