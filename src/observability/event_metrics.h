#pragma once

// The counters and histograms that events feed, written family by family.

#include "observability/exposition_writer.h"
#include "observability/prometheus_sink.h"

namespace whippet::observability {

void write_event_metrics(const SinkState& state, ExpositionWriter& writer);

}  // namespace whippet::observability
