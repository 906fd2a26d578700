#pragma once

// FanoutService (proto/whippet/v1/fanout.proto) over the registry: requests
// are validated here, so that a bad one gets INVALID_ARGUMENT naming the
// field and never reaches Kafka.

#include <atomic>
#include <memory>

#include "subscriber_registry.h"
#include "whippet/admin.h"
#include "whippet/v1/fanout.grpc.pb.h"

namespace whippet::fanout {

class FanoutServiceImpl final : public v1::FanoutService::Service {
 public:
  FanoutServiceImpl(SubscriberRegistry& registry, AdminOptions admin);

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeEvent>* writer) override;
  grpc::Status Acknowledge(grpc::ServerContext* context, const v1::AcknowledgeRequest* request,
                           v1::AcknowledgeResponse* response) override;
  grpc::Status Snapshot(grpc::ServerContext* context, const v1::FanoutSnapshotRequest* request,
                        v1::FanoutSnapshotResponse* response) override;

 private:
  SessionSettings settings_of(const v1::SubscribeRequest& request) const;
  void require_topic(const std::string& topic);

  SubscriberRegistry& registry_;
  std::mutex admin_mutex_;
  AdminClient admin_;
};

}  // namespace whippet::fanout
