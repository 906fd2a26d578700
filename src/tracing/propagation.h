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

// True when `headers` hold a traceparent: continue_trace leaves them as
// they are.
bool has_traceparent(const Headers& headers);

// The producer's hook: the headers to send with a record whose own are
// `headers`. Inside a handler, unless the record has its own traceparent,
// that is a copy of them, made in `traced`, continuing the handled record's
// trace; otherwise `headers` themselves, so that a send costs one
// thread_local read and no copy. The caller's record is never changed, so
// one record object can be sent again and again.
inline const Headers& continue_current_trace(const Headers& headers,
                                             std::optional<Headers>& traced) {
  const TraceContext* current = current_trace_context();
  if (current == nullptr || has_traceparent(headers)) return headers;
  traced.emplace(headers);
  continue_trace(*current, *traced);
  return *traced;
}

}  // namespace whippet::tracing
