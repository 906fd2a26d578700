#pragma once

namespace whippet {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

struct LoggingOptions {
  LogLevel level = LogLevel::kInfo;
  // One JSON object per line (for log collectors) instead of readable text.
  bool json = false;
};

// Sends Whippet's logs (spdlog's default logger, which librdkafka's logs
// also go through) to stderr; the library never writes to stdout. Text lines
// look like `2026-11-25T16:16:11.123Z info [whippet] (thread 4242) message`;
// JSON lines like {"time":"2026-11-25T16:16:11.123Z","level":"info",
// "logger":"whippet","message":"...","thread":4242}.
//
// Call it at start-up, before other threads log: spdlog does not guard
// replacing the default logger against concurrent logging.
void configure_logging(const LoggingOptions& options);

// Options from WHIPPET_LOG_LEVEL (trace, debug, info, warn, error, critical
// or off, any case) and WHIPPET_LOG_FORMAT (json or text). Unset or empty
// variables keep the defaults; any other value throws Error(kInvalidConfig).
LoggingOptions logging_options_from_environment();

}  // namespace whippet
