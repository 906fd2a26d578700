#include "logging/json_formatter.h"

#include <chrono>
#include <ctime>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace whippet::logging {
namespace {

std::string iso8601_utc(spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto milliseconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t whole_seconds = seconds.count();
  std::tm utc{};
  gmtime_r(&whole_seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     milliseconds);
}

}  // namespace

void JsonFormatter::format(const spdlog::details::log_msg& message,
                           spdlog::memory_buf_t& destination) {
  // ordered_json keeps the fields in this order, time first, which is what
  // people reading raw lines expect.
  nlohmann::ordered_json line;
  line["time"] = iso8601_utc(message.time);
  const auto level = spdlog::level::to_string_view(message.level);
  line["level"] = std::string(level.data(), level.size());
  line["logger"] = std::string(message.logger_name.data(), message.logger_name.size());
  line["message"] = std::string(message.payload.data(), message.payload.size());
  line["thread"] = message.thread_id;
  // A log line must never throw: replace invalid UTF-8 instead of failing.
  const auto text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  destination.append(text.data(), text.data() + text.size());
  destination.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonFormatter::clone() const {
  return std::make_unique<JsonFormatter>();
}

}  // namespace whippet::logging
