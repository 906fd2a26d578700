#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "whippet/record.h"

namespace whippet {

// W3C Trace Context carried in record headers (`traceparent`, `tracestate`),
// plus custom context headers (a request id, a tenant) that travel the same
// way: from a consumed record to every record produced while handling it.
struct TraceContext {
  std::string trace_id;   // 32 lowercase hex digits, not all zero
  std::string span_id;    // 16 lowercase hex digits, not all zero
  std::uint8_t flags = 1; // 01: sampled
  std::string tracestate; // passed through untouched
  Headers context_headers;  // custom headers carried along, e.g. {"x-request-id", "r-42"}

  // A new trace with random ids.
  static TraceContext new_root();
  // Reads `traceparent`/`tracestate` and the named custom headers; nullopt
  // when there is no valid traceparent (a malformed one is ignored, never
  // an error: tracing must not fail a record).
  static std::optional<TraceContext> from_headers(const Headers& headers,
                                                  const std::vector<std::string>& context_keys);
  static std::optional<TraceContext> parse_traceparent(std::string_view value);

  // The same trace with a new span id: what a record produced while handling
  // this one carries.
  TraceContext child() const;
  std::string traceparent() const;

  // Replaces the trace and context headers in `headers` with this context's.
  void inject(Headers& headers) const;
};

// The context of the record being handled on this thread, if any. The
// consumer sets it around each handler call; the producer reads it to
// continue the trace in every record sent from inside a handler.
const TraceContext* current_trace_context();

// Makes `context` current for this thread until destroyed.
class ScopedTraceContext {
 public:
  explicit ScopedTraceContext(TraceContext context);
  ~ScopedTraceContext();
  ScopedTraceContext(const ScopedTraceContext&) = delete;
  ScopedTraceContext& operator=(const ScopedTraceContext&) = delete;

 private:
  TraceContext context_;
  const TraceContext* previous_;
};

// Makes the context carried by a record's headers current for this thread
// until destroyed, parsing them only when current_trace_context() is first
// asked for it: a handler that produces nothing pays for no parsing. The
// headers and keys must outlive the scope.
class ScopedHeaderTraceContext {
 public:
  ScopedHeaderTraceContext(const Headers& headers, const std::vector<std::string>& context_keys);
  ~ScopedHeaderTraceContext();
  ScopedHeaderTraceContext(const ScopedHeaderTraceContext&) = delete;
  ScopedHeaderTraceContext& operator=(const ScopedHeaderTraceContext&) = delete;

  // The parsed context, or null when the headers carry none.
  const TraceContext* resolve() const;

 private:
  const Headers& headers_;
  const std::vector<std::string>& context_keys_;
  mutable std::optional<TraceContext> parsed_;
  mutable bool resolved_ = false;
  const TraceContext* previous_context_;
  const ScopedHeaderTraceContext* previous_headers_;
};

}  // namespace whippet
