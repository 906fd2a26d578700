#pragma once

// Decorators the engine wraps around the user's handler. Each takes a
// Handler and returns one, so they compose in any order.

#include <string>
#include <vector>

#include "whippet/handler.h"
#include "whippet/metrics.h"

namespace whippet::consumer {

// Makes the record's trace context (and the named custom context headers)
// current while the handler runs. Records without a valid traceparent run
// without one: tracing never fails a record.
Handler with_trace_context(Handler handler, std::vector<std::string> context_headers);

// Reports RecordHandled or RecordFailed with the handler's duration; the
// failure is rethrown for the next decorator or the engine to deal with.
Handler with_metrics(Handler handler, metrics::MetricsReporter reporter, std::string group,
                     std::string handler_name);

}  // namespace whippet::consumer
