#include "whippet/trace_context.h"

#include <algorithm>

#include "tracing/random_ids.h"

namespace whippet {
namespace {

constexpr std::string_view kTraceparent = "traceparent";
constexpr std::string_view kTracestate = "tracestate";

// version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2.
constexpr std::size_t kTraceparentLength = 55;
constexpr std::size_t kTraceIdOffset = 3;
constexpr std::size_t kTraceIdLength = 32;
constexpr std::size_t kSpanIdOffset = 36;
constexpr std::size_t kSpanIdLength = 16;
constexpr std::size_t kFlagsOffset = 53;

// The flags Trace Context Level 2 defines: sampled (01) and random trace id
// (02). The spec asks to pass these on and to send every other bit as zero.
constexpr std::uint8_t kKnownFlags = 0x03;

// The spec allows lowercase hex only: "0AF7..." is a different, invalid value.
bool is_lowercase_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char character) {
    return (character >= '0' && character <= '9') || (character >= 'a' && character <= 'f');
  });
}

bool is_all_zero(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char character) { return character == '0'; });
}

int hex_value(char digit) { return digit <= '9' ? digit - '0' : digit - 'a' + 10; }

bool is_trace_header(std::string_view key) { return key == kTraceparent || key == kTracestate; }

void erase_key(Headers& headers, std::string_view key) {
  std::erase_if(headers, [key](const Header& header) { return header.key == key; });
}

}  // namespace

TraceContext TraceContext::new_root() {
  TraceContext context;
  context.trace_id = tracing::random_trace_id();
  context.span_id = tracing::random_span_id();
  return context;
}

std::optional<TraceContext> TraceContext::parse_traceparent(std::string_view value) {
  if (value.size() < kTraceparentLength) return std::nullopt;
  const auto version = value.substr(0, 2);
  // ff is forbidden; 00 has exactly four fields. A later version may append
  // fields after a dash, and its first four fields are read as version 00.
  if (!is_lowercase_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" && value.size() != kTraceparentLength) return std::nullopt;
  if (value.size() > kTraceparentLength && value[kTraceparentLength] != '-') return std::nullopt;
  if (value[kTraceIdOffset - 1] != '-' || value[kSpanIdOffset - 1] != '-' ||
      value[kFlagsOffset - 1] != '-') {
    return std::nullopt;
  }
  const auto trace_id = value.substr(kTraceIdOffset, kTraceIdLength);
  const auto span_id = value.substr(kSpanIdOffset, kSpanIdLength);
  const auto flags = value.substr(kFlagsOffset, 2);
  if (!is_lowercase_hex(trace_id) || !is_lowercase_hex(span_id) || !is_lowercase_hex(flags)) {
    return std::nullopt;
  }
  if (is_all_zero(trace_id) || is_all_zero(span_id)) return std::nullopt;
  TraceContext context;
  context.trace_id = std::string(trace_id);
  context.span_id = std::string(span_id);
  context.flags = static_cast<std::uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
  return context;
}

std::optional<TraceContext> TraceContext::from_headers(
    const Headers& headers, const std::vector<std::string>& context_keys) {
  const auto traceparent = last_header(headers, kTraceparent);
  if (!traceparent) return std::nullopt;
  auto context = parse_traceparent(*traceparent);
  // Without a valid traceparent the tracestate means nothing (the spec says
  // not to read it), and neither do the custom headers travelling with it.
  if (!context) return std::nullopt;
  // Several tracestate headers are one list split up, as in HTTP: joined
  // with commas in the order they came.
  for (const auto& header : headers) {
    if (header.key != kTracestate || !header.value || header.value->empty()) continue;
    if (!context->tracestate.empty()) context->tracestate += ',';
    context->tracestate += *header.value;
  }
  for (const auto& key : context_keys) {
    if (is_trace_header(key)) continue;
    // The last of repeated keys is the current value, as in last_header; it
    // is carried as it is, a null value included.
    const auto found = std::find_if(headers.rbegin(), headers.rend(),
                                    [&key](const Header& header) { return header.key == key; });
    if (found != headers.rend()) context->context_headers.push_back(*found);
  }
  return context;
}

TraceContext TraceContext::child() const {
  TraceContext result = *this;
  result.span_id = tracing::random_span_id();
  result.flags = static_cast<std::uint8_t>(flags & kKnownFlags);
  return result;
}

std::string TraceContext::traceparent() const {
  constexpr char kDigits[] = "0123456789abcdef";
  // Always written as version 00, the only version this code knows, even
  // when the context was read from a later one (as the spec requires).
  std::string value;
  value.reserve(kTraceparentLength);
  value.append("00-").append(trace_id).append("-").append(span_id).append("-");
  value.push_back(kDigits[flags >> 4]);
  value.push_back(kDigits[flags & 0xf]);
  return value;
}

void TraceContext::inject(Headers& headers) const {
  // Everything this context writes is removed first, every occurrence, so a
  // record never carries two traceparents (or a stale tracestate from
  // another trace) and repeated injection does not pile headers up.
  erase_key(headers, kTraceparent);
  erase_key(headers, kTracestate);
  for (const auto& header : context_headers) erase_key(headers, header.key);
  headers.push_back(Header{std::string(kTraceparent), traceparent()});
  if (!tracestate.empty()) headers.push_back(Header{std::string(kTracestate), tracestate});
  for (const auto& header : context_headers) {
    // A custom header may never stand in for the trace headers written above.
    if (!is_trace_header(header.key)) headers.push_back(header);
  }
}

namespace {
// The context of the record being handled on this thread: an explicit one,
// or else the headers of the record, parsed on first use. Plain pointers:
// reading them is all a send costs when no trace is current.
thread_local const TraceContext* current_context = nullptr;
thread_local const ScopedHeaderTraceContext* current_headers = nullptr;
}  // namespace

const TraceContext* current_trace_context() {
  if (current_context != nullptr) return current_context;
  return current_headers != nullptr ? current_headers->resolve() : nullptr;
}

ScopedHeaderTraceContext::ScopedHeaderTraceContext(const Headers& headers,
                                                   const std::vector<std::string>& context_keys)
    : headers_(headers), context_keys_(context_keys), previous_context_(current_context),
      previous_headers_(current_headers) {
  // The innermost scope wins: hide an enclosing explicit context.
  current_context = nullptr;
  current_headers = this;
}

ScopedHeaderTraceContext::~ScopedHeaderTraceContext() {
  current_context = previous_context_;
  current_headers = previous_headers_;
}

const TraceContext* ScopedHeaderTraceContext::resolve() const {
  if (!resolved_) {
    parsed_ = TraceContext::from_headers(headers_, context_keys_);
    resolved_ = true;
  }
  return parsed_ ? &*parsed_ : nullptr;
}

ScopedTraceContext::ScopedTraceContext(TraceContext context)
    : context_(std::move(context)), previous_(current_context) {
  current_context = &context_;
}

ScopedTraceContext::~ScopedTraceContext() { current_context = previous_; }

}  // namespace whippet
