#pragma once

#include <memory>
#include <string>

#include "whippet/embedded_cluster.h"

namespace whippet::cli {

// The loopback HTTP API of `whippet up`. It exists because the embedded
// cluster (librdkafka's mock) cannot create topics through the Kafka
// protocol, and answers group questions only in the process that owns it;
// other whippet processes ask this API instead.
//
//   GET  /healthz               {"status":"ok","bootstrap":"127.0.0.1:PORT"}
//   GET  /v1/topics             {"topics":[{"name":"orders","partitions":4}]}
//   POST /v1/topics             {"name":"orders","partitions":4} -> 201
//   DELETE /v1/topics/NAME
//   GET  /v1/groups             {"groups":[{"group_id":..,"state":..,"protocol_type":..}]}
//   POST /v1/groups             {"group_id":"g"}: a consumer elsewhere announces its group
//   POST /v1/groups/lag         {"group":"g","topics":["orders"]} -> {"partitions":[...]}
// Errors: {"error": text, "code": whippet error code name, ...} with a 4xx/5xx status.
class AdminApiServer {
 public:
  // Listens on 127.0.0.1:port (0: any free port) and serves from a thread of
  // its own. `cluster` must be the process-wide EmbeddedCluster::shared().
  AdminApiServer(std::shared_ptr<EmbeddedCluster> cluster, int port);
  ~AdminApiServer();
  AdminApiServer(const AdminApiServer&) = delete;
  AdminApiServer& operator=(const AdminApiServer&) = delete;

  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet::cli
