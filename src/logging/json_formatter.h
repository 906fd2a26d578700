#pragma once

#include <memory>

#include <spdlog/formatter.h>

namespace whippet::logging {

// Formats each message as one line of JSON: time (ISO-8601 UTC with
// milliseconds), level, logger, message, thread. Never throws on odd
// messages: bytes that are not UTF-8 become U+FFFD.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace whippet::logging
