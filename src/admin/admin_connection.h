#pragma once

// The librdkafka handle behind AdminClient, and the one way admin requests
// are awaited and their failures explained (a timeout while every broker is
// down becomes kBrokerUnreachable naming the bootstrap servers).

#include <chrono>
#include <functional>
#include <string>

#include "kafka/broker_reachability.h"
#include "kafka/handles.h"
#include "whippet/admin.h"
#include "whippet/error.h"

namespace whippet::admin {

class AdminConnection {
 public:
  explicit AdminConnection(const AdminOptions& options);
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  rd_kafka_t* handle() const { return handle_.get(); }
  const ResolvedCluster& cluster() const { return cluster_; }
  const AdminOptions& options() const { return options_; }
  int timeout_milliseconds() const { return static_cast<int>(options_.operation_timeout.count()); }

  // True when the cluster is librdkafka's mock (resolved as embedded, or
  // the address of an embedded cluster of this process).
  bool is_mock() const;

  // Starts an admin request with `start` (which gets options carrying the
  // operation timeout, and the queue to answer on) and waits for its event.
  // Throws on timeout or a request-level error.
  using Starter = std::function<void(const rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>;
  kafka::EventHandle run(rd_kafka_admin_op_t operation, const std::string& what,
                         const ErrorContext& context, const Starter& start);

  // Metadata of every topic. Never auto-creates anything.
  kafka::MetadataHandle all_metadata(const std::string& what);

  // Explains a failed request; `err` may be a timeout or transport error.
  Error failure(rd_kafka_resp_err_t err, const std::string& what, const ErrorContext& context);

  // A request answered: the cluster is reachable.
  void succeeded() { reachability_.on_success(); }

 private:
  static void on_error(rd_kafka_t* handle, int err, const char* reason, void* opaque) noexcept;

  AdminOptions options_;
  // Declared before the handle so that an embedded cluster outlives it.
  ResolvedCluster cluster_;
  kafka::BrokerReachability reachability_;
  kafka::KafkaHandle handle_;
};

}  // namespace whippet::admin
