#pragma once

#include <optional>

#include "whippet/record.h"
#include "whippet/trace_context.h"

namespace whippet::tracing {

// Continues `current` in a record about to be sent: the record gets a child
// span of the current trace and the current custom context headers.
//
// The record's own headers win. A record that already has a traceparent
// (even one this code cannot parse) was given its trace on purpose, e.g. a
// record forwarded as it was consumed: it is left exactly as it is. Without
// one, the child's traceparent and tracestate are written (a tracestate
// without its traceparent belongs to no trace, so it is replaced), and each
// custom context header is added only if the record has no header of that key.
void continue_trace(const TraceContext& current, Headers& headers);

// The producer's hook: the record to send. Inside a handler that is a copy
// of `record`, made in `traced`, continuing the handled record's trace;
// outside one it is `record` itself, so that a send costs no copy and one
// thread_local read. The caller's record is never changed, so one record
// object can be sent again and again.
inline const ProducerRecord& continue_current_trace(const ProducerRecord& record,
                                                    std::optional<ProducerRecord>& traced) {
  const TraceContext* current = current_trace_context();
  if (current == nullptr) return record;
  traced.emplace(record);
  continue_trace(*current, traced->headers);
  return *traced;
}

}  // namespace whippet::tracing
