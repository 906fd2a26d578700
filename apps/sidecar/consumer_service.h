#pragma once

// ConsumerService: each Consume stream runs one SDK consumer whose handler
// is a SubscriptionSession pushing records to the client.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "shared_admin.h"
#include "subscription_options.h"
#include "whippet/prometheus.h"
#include "whippet/v1/sidecar.grpc.pb.h"

namespace whippet::sidecar {

struct ActiveSubscription;

struct ConsumerServiceOptions {
  SubscriptionDefaults defaults;
  std::shared_ptr<SharedAdmin> admin;
  // Gauges of the consumers the sidecar runs are read from their snapshots.
  std::shared_ptr<metrics::PrometheusSink> sink;
  // Consume streams served at once; more are refused with INVALID_ARGUMENT.
  std::size_t max_subscriptions = 256;
};

class ConsumerServiceImpl final : public v1::ConsumerService::Service {
 public:
  explicit ConsumerServiceImpl(ConsumerServiceOptions options);
  ~ConsumerServiceImpl() override;

  grpc::Status Consume(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>* stream) override;
  grpc::Status Snapshot(grpc::ServerContext* context, const v1::SnapshotRequest* request,
                        v1::SnapshotResponse* response) override;

  // Graceful shutdown: refuses new subscriptions, stops pushing, gives the
  // clients up to `drain` to answer what they hold, then ends every stream
  // (what is still unanswered stays uncommitted).
  void shutdown(std::chrono::milliseconds drain);

  nlohmann::json snapshot_json() const;

 private:
  std::shared_ptr<ActiveSubscription> open(grpc::ServerContext* context,
                                           const v1::Subscription& subscription,
                                           grpc::ServerReaderWriter<v1::ConsumeResponse,
                                                                    v1::ConsumeRequest>* stream);
  grpc::Status serve(ActiveSubscription& active,
                     grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>* stream);
  void close(const std::shared_ptr<ActiveSubscription>& active);

  ConsumerServiceOptions options_;
  uint64_t snapshot_source_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ActiveSubscription>> active_;
  uint64_t last_id_ = 0;
  bool stopping_ = false;
};

}  // namespace whippet::sidecar
