#include "consumer/handler_decorators.h"

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "whippet/trace_context.h"

namespace whippet::consumer {
namespace {

constexpr std::string_view kTraceparent = "traceparent";

// The exception's type as a bounded metric label, e.g. "std::runtime_error".
std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled ? demangled.get() : type.name();
}

bool has_traceparent(const Record& record) {
  for (const auto& header : record.headers) {
    if (header.key == kTraceparent) return true;
  }
  return false;
}

}  // namespace

Handler with_trace_context(Handler handler, std::vector<std::string> context_headers) {
  return [handler = std::move(handler),
          context_headers = std::move(context_headers)](const Record& record) {
    // Most records carry no trace: keep their path to one header scan.
    if (!has_traceparent(record)) return handler(record);
    auto context = TraceContext::from_headers(record.headers, context_headers);
    if (!context) return handler(record);
    ScopedTraceContext scope(std::move(*context));
    handler(record);
  };
}

Handler with_metrics(Handler handler, metrics::MetricsReporter reporter, std::string group,
                     std::string handler_name) {
  return [handler = std::move(handler), reporter = std::move(reporter), group = std::move(group),
          handler_name = std::move(handler_name)](const Record& record) {
    const auto start = std::chrono::steady_clock::now();
    auto labels = [&] { return metrics::ConsumerLabels{record.topic, group, handler_name}; };
    try {
      handler(record);
    } catch (const std::exception& error) {
      reporter.report(metrics::RecordFailed{labels(), std::chrono::steady_clock::now() - start,
                                            type_name(typeid(error))});
      throw;
    } catch (...) {
      reporter.report(metrics::RecordFailed{labels(), std::chrono::steady_clock::now() - start,
                                            "unknown"});
      throw;
    }
    reporter.report(metrics::RecordHandled{labels(), std::chrono::steady_clock::now() - start});
  };
}

}  // namespace whippet::consumer
