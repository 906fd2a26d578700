#include "tracing/propagation.h"

#include <algorithm>

namespace whippet::tracing {
namespace {

bool has_key(const Headers& headers, const std::string& key) {
  return std::any_of(headers.begin(), headers.end(),
                     [&key](const Header& header) { return header.key == key; });
}

}  // namespace

bool has_traceparent(const Headers& headers) { return has_key(headers, "traceparent"); }

void continue_trace(const TraceContext& current, Headers& headers) {
  if (has_traceparent(headers)) return;
  TraceContext child = current.child();
  std::erase_if(child.context_headers,
                [&headers](const Header& header) { return has_key(headers, header.key); });
  child.inject(headers);
}

}  // namespace whippet::tracing
