#include "admin_service.h"

#include "record_messages.h"
#include "status_mapping.h"
#include "whippet/error.h"

namespace whippet::sidecar {
namespace {

constexpr int kMostPartitions = 100000;

NewTopic to_new_topic(const v1::TopicSpec& spec) {
  validate_topic_name(spec.name(), "topics.name");
  if (spec.partitions() < 1 || spec.partitions() > kMostPartitions) {
    throw Error(ErrorCode::kInvalidArgument, "topic \"" + spec.name() + "\": partitions " +
                                                 std::to_string(spec.partitions()) +
                                                 " must be between 1 and " +
                                                 std::to_string(kMostPartitions));
  }
  if (spec.replication_factor() < 1) {
    throw Error(ErrorCode::kInvalidArgument, "topic \"" + spec.name() +
                                                 "\": replication_factor " +
                                                 std::to_string(spec.replication_factor()) +
                                                 " must be at least 1");
  }
  NewTopic topic{spec.name(), spec.partitions(), spec.replication_factor(), {}};
  for (const auto& [name, value] : spec.configs()) topic.configs[name] = value;
  return topic;
}

void fill_description(const TopicDescription& description, v1::TopicDescription* message) {
  message->set_name(description.name);
  for (const auto& partition : description.partitions) {
    auto* added = message->add_partitions();
    added->set_partition(partition.partition);
    added->set_leader(partition.leader);
    for (auto replica : partition.replicas) added->add_replicas(replica);
    for (auto replica : partition.in_sync_replicas) added->add_in_sync_replicas(replica);
    added->set_low_watermark(partition.low_watermark);
    added->set_high_watermark(partition.high_watermark);
  }
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(std::shared_ptr<SharedAdmin> admin) : admin_(std::move(admin)) {}

grpc::Status AdminServiceImpl::CreateTopics(grpc::ServerContext*,
                                            const v1::CreateTopicsRequest* request,
                                            v1::CreateTopicsResponse* response) {
  if (request->topics().empty()) return invalid_argument("topics is empty: name a topic to create");
  std::vector<NewTopic> topics;
  try {
    // All or nothing on malformed input: nothing is created.
    for (const auto& spec : request->topics()) topics.push_back(to_new_topic(spec));
  } catch (const Error& error) {
    return to_status(error);
  }
  for (const auto& topic : topics) {
    auto* outcome = response->add_topics();
    outcome->set_name(topic.name);
    try {
      admin_->with([&](AdminClient& admin) {
        admin.create_topic(topic, request->if_not_exists());
        return 0;
      });
    } catch (const Error& error) {
      fill_error(error, outcome->mutable_error());
    }
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::DescribeTopics(grpc::ServerContext*,
                                              const v1::DescribeTopicsRequest* request,
                                              v1::DescribeTopicsResponse* response) {
  try {
    for (const auto& name : request->names()) {
      validate_topic_name(name, "names");
      const auto description =
          admin_->with([&](AdminClient& admin) { return admin.describe_topic(name); });
      fill_description(description, response->add_topics());
    }
  } catch (const Error& error) {
    return to_status(error);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GroupLag(grpc::ServerContext*, const v1::GroupLagRequest* request,
                                        v1::GroupLagResponse* response) {
  if (request->group().empty()) return invalid_argument("group is empty: name a consumer group");
  try {
    std::vector<std::string> topics(request->topics().begin(), request->topics().end());
    for (const auto& topic : topics) validate_topic_name(topic, "topics");
    const auto lags = admin_->with(
        [&](AdminClient& admin) { return admin.group_lag(request->group(), topics); });
    int64_t total = 0;
    for (const auto& lag : lags) {
      auto* added = response->add_partitions();
      added->set_topic(lag.topic_partition.topic);
      added->set_partition(lag.topic_partition.partition);
      if (lag.committed_offset) added->set_committed_offset(*lag.committed_offset);
      added->set_high_watermark(lag.high_watermark);
      added->set_lag(lag.lag);
      total += lag.lag;
    }
    response->set_total_lag(total);
  } catch (const Error& error) {
    return to_status(error);
  }
  return grpc::Status::OK;
}

}  // namespace whippet::sidecar
