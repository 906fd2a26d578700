#pragma once

// FanoutService (proto/whippet/v1/fanout.proto) over the registry: requests
// are validated here, so that a bad one gets INVALID_ARGUMENT naming the
// field and never reaches Kafka.
//
// The service registers its methods itself rather than through the
// generated FanoutService::Service, whose Subscribe can only write
// SubscribeEvent messages, each serialised (copied) again by gRPC: here it
// writes ByteBuffers, so that a batch of deliveries refers to the records'
// shared bytes (deliveries_message.h). The methods, their names and their
// messages on the wire are those of the contract: methods() lists what is
// registered, and tests/unit/fanout_service_test.cc holds it to the proto's
// service descriptor, so a method renamed in the proto fails a test rather
// than clients.

#include <atomic>
#include <memory>
#include <span>

#include "subscriber_registry.h"
#include "whippet/admin.h"
#include <grpcpp/impl/service_type.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>

#include "whippet/v1/fanout.grpc.pb.h"

namespace whippet::fanout {

class FanoutServiceImpl final : public grpc::Service {
 public:
  // A method as registered with gRPC.
  struct Method {
    const char* path;  // "/<package>.<Service>/<Method>"; gRPC keeps the pointer
    bool server_streaming;
  };
  // In registration order.
  static std::span<const Method> methods();

  FanoutServiceImpl(SubscriberRegistry& registry, AdminOptions admin);

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<grpc::ByteBuffer>* writer);
  grpc::Status Acknowledge(grpc::ServerContext* context, const v1::AcknowledgeRequest* request,
                           v1::AcknowledgeResponse* response);
  grpc::Status Snapshot(grpc::ServerContext* context, const v1::FanoutSnapshotRequest* request,
                        v1::FanoutSnapshotResponse* response);

 private:
  SessionSettings settings_of(const v1::SubscribeRequest& request) const;
  void require_topic(const std::string& topic);

  SubscriberRegistry& registry_;
  std::mutex admin_mutex_;
  AdminClient admin_;
};

}  // namespace whippet::fanout
