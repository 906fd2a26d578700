#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "partition_buffer.h"
#include "topic_feed.h"
#include "whippet/cluster.h"
#include "whippet/prometheus.h"

namespace whippet::fanout {

struct FanoutOptions {
  // host:port; port 0 picks a free one (see FanoutServer::port()).
  std::string listen_address = "127.0.0.1:50061";
  ClusterOptions cluster;
  // Instances with the same prefix share topics: "<prefix>:<topic>" is the
  // proxy group splitting a topic's partitions between them, and
  // "<prefix>:<topic>:<subscriber>" the group holding a subscriber's
  // acknowledged positions.
  // (':' never appears in topic or subscriber names, so a proxy group
  // cannot be mistaken for a subscriber's.)
  std::string group_prefix = "whippet-fanout";
  // Names this instance in SessionStarted and logs; empty: host and pid.
  std::string proxy_id;
  // Shared buffer per partition. Memory is at most about these times the
  // partitions served, plus each subscriber's records in flight and its
  // private reader's prefetch.
  BufferLimits buffer;
  SlowSubscriberPolicy slow_subscribers = SlowSubscriberPolicy::kReadPrivately;
  // Defaults for what a subscription leaves at 0, and the upper bound.
  std::size_t max_in_flight = 1000;
  std::size_t max_in_flight_limit = 100000;
  std::chrono::milliseconds ack_deadline{30000};
  std::size_t max_subscribers = 256;
  std::chrono::milliseconds commit_interval{1000};
  // How long the proxy group waits for a silent instance (one killed) before
  // giving its partitions to the others.
  std::chrono::milliseconds session_timeout{10000};
  std::size_t private_prefetch_kilobytes = 8192;
  // Serves /metrics when set.
  std::optional<metrics::MetricsHttpServerOptions> metrics_http;
};

}  // namespace whippet::fanout
