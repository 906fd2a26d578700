#include "cli_state.h"

#include <algorithm>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace whippet::cli {

void configure_logging(int verbosity) {
  // spdlog's default logger writes to stdout, which is reserved for data
  // (records, tables) so that output can be piped.
  auto logger = spdlog::stderr_color_mt("whippet");
  logger->set_pattern("%^[%T.%e %l]%$ %v");
  spdlog::set_default_logger(std::move(logger));
  static constexpr spdlog::level::level_enum kLevels[] = {
      spdlog::level::warn, spdlog::level::info, spdlog::level::debug, spdlog::level::trace};
  spdlog::set_level(kLevels[std::clamp(verbosity, 0, 3)]);
}

}  // namespace whippet::cli
