#pragma once

// Per-partition consumer gauges, read from runtime snapshots at scrape time.

#include <vector>

#include "observability/exposition_writer.h"
#include "whippet/runtime.h"

namespace whippet::observability {

void write_snapshot_gauges(const std::vector<ConsumerSnapshot>& snapshots,
                           ExpositionWriter& writer);

}  // namespace whippet::observability
