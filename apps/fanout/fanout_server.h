#pragma once

// The fan-out proxy (proto/whippet/v1/fanout.proto): each topic read once
// per proxy group, pushed to every subscriber stream, with the standard gRPC
// health service and Prometheus metrics per subscriber.

#include <memory>
#include <string>

#include "fanout_options.h"
#include "whippet/admin.h"

namespace whippet::fanout {

class FanoutServer {
 public:
  // Starts serving. Throws whippet::Error(kInvalidArgument) when the address
  // cannot be bound.
  explicit FanoutServer(FanoutOptions options);
  // Equivalent to shutdown().
  ~FanoutServer();
  FanoutServer(const FanoutServer&) = delete;
  FanoutServer& operator=(const FanoutServer&) = delete;

  int port() const;
  std::string metrics_url() const;  // empty without a metrics endpoint
  // The runtime snapshot as JSON text (what FanoutService.Snapshot returns).
  std::string snapshot_json() const;

  // Health turns NOT_SERVING, streams end with UNAVAILABLE after committing
  // what their subscribers acknowledged, and the topics' readers leave their
  // groups. Idempotent.
  void shutdown();
  // Blocks until shutdown() has finished.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet::fanout
