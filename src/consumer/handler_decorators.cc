#include "consumer/handler_decorators.h"

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "whippet/trace_context.h"

namespace whippet::consumer {
namespace {

// The exception's type as a bounded metric label, e.g. "std::runtime_error".
std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled ? demangled.get() : type.name();
}

}  // namespace

Handler with_trace_context(Handler handler, std::vector<std::string> context_headers) {
  return [handler = std::move(handler),
          context_headers = std::move(context_headers)](const Record& record) {
    // Parsed only if the handler produces (or asks): most handlers do not.
    ScopedHeaderTraceContext scope(record.headers, context_headers);
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
