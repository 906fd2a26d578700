#pragma once

// AdminService: topics and group lag through the sidecar's admin connection.

#include <memory>

#include "shared_admin.h"
#include "whippet/v1/sidecar.grpc.pb.h"

namespace whippet::sidecar {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  explicit AdminServiceImpl(std::shared_ptr<SharedAdmin> admin);

  grpc::Status CreateTopics(grpc::ServerContext* context, const v1::CreateTopicsRequest* request,
                            v1::CreateTopicsResponse* response) override;
  grpc::Status DescribeTopics(grpc::ServerContext* context,
                              const v1::DescribeTopicsRequest* request,
                              v1::DescribeTopicsResponse* response) override;
  grpc::Status GroupLag(grpc::ServerContext* context, const v1::GroupLagRequest* request,
                        v1::GroupLagResponse* response) override;

 private:
  std::shared_ptr<SharedAdmin> admin_;
};

}  // namespace whippet::sidecar
