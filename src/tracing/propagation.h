#pragma once

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

// The producer's hook, inline so that a send outside any handler costs one
// thread_local read.
inline void continue_current_trace(Headers& headers) {
  if (const TraceContext* current = current_trace_context()) continue_trace(*current, headers);
}

}  // namespace whippet::tracing
