#pragma once

#include <string>

namespace whippet::tracing {

// Lowercase hex ids for new traces and spans, never all zero (W3C treats an
// all-zero id as invalid). Pseudo-random, not cryptographic: ids only need
// to be unique enough not to collide, and a send must stay cheap.
std::string random_trace_id();  // 32 hex digits
std::string random_span_id();   // 16 hex digits

}  // namespace whippet::tracing
