#pragma once

// The sidecar: libwhippet's producer, consumers and admin served over gRPC
// (proto/whippet/v1/sidecar.proto), with the standard gRPC health service
// and the SDK's Prometheus metrics for every consumer it runs.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "whippet/config.h"
#include "whippet/prometheus.h"

namespace whippet::sidecar {

struct SidecarOptions {
  // host:port; port 0 picks a free one (see SidecarServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // The cluster, the producer and admin settings, and the defaults of every
  // subscription's consumer (commit interval, worker threads, timeouts). The
  // subscription sets group, topics, ordering, retries and initial offset.
  WhippetConfig config;
  // Subscription defaults for what a Subscription leaves at 0.
  std::size_t max_in_flight = 256;
  std::chrono::milliseconds ack_deadline{30000};
  // Consume streams served at once; more are refused.
  std::size_t max_subscriptions = 256;
  // On shutdown, how long clients get to answer the records they hold.
  std::chrono::milliseconds drain_timeout{10000};
  // gRPC messages larger than this are refused with RESOURCE_EXHAUSTED before
  // they are read; 0: the producer's max_record_bytes plus 1 MiB.
  std::size_t max_message_bytes = 0;
  // Serves /metrics when set.
  std::optional<metrics::MetricsHttpServerOptions> metrics_http;
};

class SidecarServer {
 public:
  // Starts serving. Throws whippet::Error(kInvalidArgument) when the address
  // cannot be bound.
  explicit SidecarServer(SidecarOptions options);
  // Equivalent to shutdown().
  ~SidecarServer();
  SidecarServer(const SidecarServer&) = delete;
  SidecarServer& operator=(const SidecarServer&) = delete;

  int port() const;
  // Empty (and 0) without a metrics endpoint.
  std::string metrics_url() const;
  int metrics_port() const;

  // Graceful: health turns NOT_SERVING, new subscriptions are refused, the
  // clients get drain_timeout to answer what they hold, streams end,
  // consumers commit what was answered and the producer flushes. Idempotent.
  void shutdown();
  // Blocks until shutdown() has finished.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet::sidecar
