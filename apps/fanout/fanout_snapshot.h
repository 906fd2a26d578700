#pragma once

// What the proxy shows of itself: the runtime snapshot as JSON (topics,
// partitions, buffers, subscribers) and the same figures as Prometheus
// families for the metrics endpoint.

#include <nlohmann/json.hpp>

#include <vector>

#include "subscriber_registry.h"
#include "whippet/prometheus.h"

namespace whippet::fanout {

nlohmann::json snapshot_json(SubscriberRegistry& registry);
std::vector<metrics::MetricFamily> metric_families(SubscriberRegistry& registry);

}  // namespace whippet::fanout
