#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "logging/json_formatter.h"
#include "whippet/logging.h"

namespace whippet {
namespace {

// UTC with a Z, like the JSON lines, so that logs from hosts in different
// time zones line up.
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] (thread %t) %v";

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kCritical:
      return spdlog::level::critical;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void configure_logging(const LoggingOptions& options) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (options.json) {
    // No colour sink here: escape codes would corrupt the JSON.
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<logging::JsonFormatter>());
  } else {
    // Colours only when stderr is a terminal.
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_formatter(
        std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc));
  }
  auto logger = std::make_shared<spdlog::logger>("whippet", std::move(sink));
  logger->set_level(spdlog_level(options.level));
  // The stderr sinks flush every line already; this keeps it so for any
  // sink added later, so that a crash never loses the lines before it.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace whippet
