#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "whippet/error.h"
#include "whippet/logging.h"

namespace whippet {
namespace {

// An empty variable counts as unset, as for the other WHIPPET_* variables.
std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char character) { return static_cast<char>(std::tolower(character)); });
  return text;
}

[[noreturn]] void invalid(const char* name, const std::string& value, const char* expected) {
  throw Error(ErrorCode::kInvalidConfig, std::string("environment variable ") + name + "=\"" +
                                             value + "\": expected " + expected);
}

LogLevel parse_level(const std::string& value) {
  static constexpr std::array<std::pair<const char*, LogLevel>, 7> kLevels{{
      {"trace", LogLevel::kTrace},
      {"debug", LogLevel::kDebug},
      {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},
      {"error", LogLevel::kError},
      {"critical", LogLevel::kCritical},
      {"off", LogLevel::kOff},
  }};
  const auto name = lowercase(value);
  for (const auto& [level_name, level] : kLevels) {
    if (name == level_name) return level;
  }
  invalid("WHIPPET_LOG_LEVEL", value, "trace, debug, info, warn, error, critical or off");
}

}  // namespace

LoggingOptions logging_options_from_environment() {
  LoggingOptions options;
  if (auto level = variable("WHIPPET_LOG_LEVEL")) options.level = parse_level(*level);
  if (auto format = variable("WHIPPET_LOG_FORMAT")) {
    const auto name = lowercase(*format);
    if (name == "json") {
      options.json = true;
    } else if (name == "text") {
      options.json = false;
    } else {
      invalid("WHIPPET_LOG_FORMAT", *format, "json or text");
    }
  }
  return options;
}

}  // namespace whippet
