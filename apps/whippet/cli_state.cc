#include "cli_state.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string_view>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace whippet::cli {
namespace {

// librdkafka warns on every connection to the embedded cluster that the mock
// is too old for allow.auto.create.topics=false. True and harmless (the mock
// creates topics on use anyway), but it buries the command's own output, so
// it is shown only from -vv on.
class KnownNoiseFilter : public spdlog::sinks::base_sink<std::mutex> {
 public:
  KnownNoiseFilter(spdlog::sink_ptr target, bool show_noise)
      : target_(std::move(target)), show_noise_(show_noise) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const std::string_view text(message.payload.data(), message.payload.size());
    if (!show_noise_ && text.find("allow.auto.create.topics=false not supported by broker") !=
                            std::string_view::npos) {
      return;
    }
    target_->log(message);
  }
  void flush_() override { target_->flush(); }
  // The logger hands its pattern to its sinks as a formatter.
  void set_pattern_(const std::string& pattern) override { target_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override {
    target_->set_formatter(std::move(formatter));
  }

 private:
  spdlog::sink_ptr target_;
  bool show_noise_;
};

}  // namespace

void configure_logging(int verbosity) {
  // spdlog's default logger writes to stdout, which is reserved for data
  // (records, tables) so that output can be piped.
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto sink = std::make_shared<KnownNoiseFilter>(std::move(stderr_sink), verbosity >= 2);
  auto logger = std::make_shared<spdlog::logger>("whippet", std::move(sink));
  logger->set_pattern("%^[%T.%e %l]%$ %v");
  spdlog::set_default_logger(std::move(logger));
  static constexpr spdlog::level::level_enum kLevels[] = {
      spdlog::level::warn, spdlog::level::info, spdlog::level::debug, spdlog::level::trace};
  spdlog::set_level(kLevels[std::clamp(verbosity, 0, 3)]);
}

}  // namespace whippet::cli
