#pragma once

// ProducerService: one SDK producer for every client of the sidecar.

#include <memory>

#include "whippet/producer.h"
#include "whippet/v1/sidecar.grpc.pb.h"

namespace whippet::sidecar {

class ProducerServiceImpl final : public v1::ProducerService::Service {
 public:
  explicit ProducerServiceImpl(std::shared_ptr<Producer> producer);

  grpc::Status Produce(grpc::ServerContext* context, const v1::ProduceRequest* request,
                       v1::ProduceResult* response) override;
  grpc::Status ProduceStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ProduceStreamResponse, v1::ProduceBatch>* stream) override;

 private:
  std::shared_ptr<Producer> producer_;
};

}  // namespace whippet::sidecar
