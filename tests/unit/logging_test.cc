// Logging set-up: JSON lines, the text format, levels and the environment.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <regex.h>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "logging/json_formatter.h"
#include "whippet/error.h"
#include "whippet/logging.h"

namespace {

// POSIX extended regex: gcc 12's std::regex trips -Werror under sanitizers.
bool matches(const std::string& text, const std::string& pattern) {
  regex_t compiled;
  if (regcomp(&compiled, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) return false;
  const bool matched = regexec(&compiled, text.c_str(), 0, nullptr, 0) == 0;
  regfree(&compiled);
  return matched;
}

}  // namespace

namespace whippet {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Checks that `line` is one JSON object with every field of the format.
nlohmann::json parse_line(const std::string& line) {
  const auto object = nlohmann::json::parse(line);
  EXPECT_TRUE(object.is_object()) << line;
  const std::string iso8601_utc_milliseconds =
      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$";
  EXPECT_TRUE(matches(object.at("time").get<std::string>(), iso8601_utc_milliseconds))
      << line;
  EXPECT_TRUE(object.at("level").is_string()) << line;
  EXPECT_TRUE(object.at("logger").is_string()) << line;
  EXPECT_TRUE(object.at("message").is_string()) << line;
  EXPECT_TRUE(object.at("thread").is_number_unsigned()) << line;
  EXPECT_EQ(object.size(), 5u) << line;
  return object;
}

// Keeps the default logger of the test process across a test that replaces it.
class DefaultLoggerGuard {
 public:
  DefaultLoggerGuard() : saved_(spdlog::default_logger()) {}
  ~DefaultLoggerGuard() { spdlog::set_default_logger(saved_); }
  DefaultLoggerGuard(const DefaultLoggerGuard&) = delete;
  DefaultLoggerGuard& operator=(const DefaultLoggerGuard&) = delete;

 private:
  std::shared_ptr<spdlog::logger> saved_;
};

// Sends file descriptor 2 to a temporary file while alive, so that the test
// sees exactly what configure_logging's stderr sink writes.
class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()), saved_descriptor_(dup(STDERR_FILENO)) {
    std::fflush(stderr);
    dup2(fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() {
    restore();
    std::fclose(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  // Restores stderr and returns everything written meanwhile.
  std::string finish() {
    restore();
    std::string text;
    std::rewind(file_);
    char buffer[4096];
    for (std::size_t read = 0; (read = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) {
      text.append(buffer, read);
    }
    return text;
  }

 private:
  void restore() {
    if (saved_descriptor_ < 0) return;
    std::fflush(stderr);
    dup2(saved_descriptor_, STDERR_FILENO);
    close(saved_descriptor_);
    saved_descriptor_ = -1;
  }

  std::FILE* file_;
  int saved_descriptor_;
};

// Sets or clears an environment variable for one test, then puts it back.
class EnvironmentVariable {
 public:
  EnvironmentVariable(const char* name, const char* value) : name_(name) {
    if (const char* previous = std::getenv(name)) previous_ = previous;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~EnvironmentVariable() {
    if (previous_) {
      setenv(name_, previous_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  EnvironmentVariable(const EnvironmentVariable&) = delete;
  EnvironmentVariable& operator=(const EnvironmentVariable&) = delete;

 private:
  const char* name_;
  std::optional<std::string> previous_;
};

TEST(JsonFormatterTest, WritesOneEscapedJsonObjectPerLine) {
  std::ostringstream output;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(output);
  sink->set_formatter(std::make_unique<logging::JsonFormatter>());
  spdlog::logger logger("json-test", sink);
  logger.set_level(spdlog::level::trace);

  logger.info("plain message");
  logger.warn("quotes \" backslash \\ newline \n tab \t bell \a");
  logger.error("unicode: caf\u00e9 \u2713");
  logger.debug("not UTF-8: \xff\xfe end");

  const auto lines = lines_of(output.str());
  ASSERT_EQ(lines.size(), 4u) << output.str();
  const auto plain = parse_line(lines[0]);
  EXPECT_EQ(plain.at("level"), "info");
  EXPECT_EQ(plain.at("logger"), "json-test");
  EXPECT_EQ(plain.at("message"), "plain message");

  const auto escaped = parse_line(lines[1]);
  EXPECT_EQ(escaped.at("level"), "warning");
  EXPECT_EQ(escaped.at("message"), "quotes \" backslash \\ newline \n tab \t bell \a");

  EXPECT_EQ(parse_line(lines[2]).at("message"), "unicode: caf\u00e9 \u2713");

  // Bytes that are not UTF-8 become U+FFFD rather than an exception.
  const auto replaced = parse_line(lines[3]);
  EXPECT_EQ(replaced.at("level"), "debug");
  EXPECT_EQ(replaced.at("message"), "not UTF-8: \ufffd\ufffd end");
}

TEST(ConfigureLoggingTest, JsonModeWritesJsonLinesToStderr) {
  DefaultLoggerGuard guard;
  StderrCapture capture;
  configure_logging(LoggingOptions{.level = LogLevel::kInfo, .json = true});
  spdlog::info("consumer {} started", "orders");
  spdlog::debug("below the level: not written");
  spdlog::error("handler failed: \"{}\"", "boom");
  const auto lines = lines_of(capture.finish());

  ASSERT_EQ(lines.size(), 2u);
  const auto started = parse_line(lines[0]);
  EXPECT_EQ(started.at("level"), "info");
  EXPECT_EQ(started.at("logger"), "whippet");
  EXPECT_EQ(started.at("message"), "consumer orders started");
  const auto failed = parse_line(lines[1]);
  EXPECT_EQ(failed.at("level"), "error");
  EXPECT_EQ(failed.at("message"), "handler failed: \"boom\"");
}

TEST(ConfigureLoggingTest, TextModeWritesReadableLinesToStderr) {
  DefaultLoggerGuard guard;
  StderrCapture capture;
  configure_logging(LoggingOptions{.level = LogLevel::kWarn});
  spdlog::info("below the level: not written");
  spdlog::warn("partition {} paused", 3);
  const auto lines = lines_of(capture.finish());

  ASSERT_EQ(lines.size(), 1u);
  const std::string readable =
      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z warning "
      "\\[whippet\\] \\(thread [0-9]+\\) partition 3 paused$";
  EXPECT_TRUE(matches(lines[0], readable)) << lines[0];
}

TEST(ConfigureLoggingTest, OffWritesNothing) {
  DefaultLoggerGuard guard;
  StderrCapture capture;
  configure_logging(LoggingOptions{.level = LogLevel::kOff, .json = true});
  spdlog::critical("not written");
  EXPECT_EQ(capture.finish(), "");
}

TEST(LoggingEnvironmentTest, UnsetOrEmptyVariablesKeepTheDefaults) {
  EnvironmentVariable level("WHIPPET_LOG_LEVEL", nullptr);
  EnvironmentVariable format("WHIPPET_LOG_FORMAT", "");
  const auto options = logging_options_from_environment();
  EXPECT_EQ(options.level, LogLevel::kInfo);
  EXPECT_FALSE(options.json);
}

TEST(LoggingEnvironmentTest, ReadsLevelAndFormatInAnyCase) {
  EnvironmentVariable level("WHIPPET_LOG_LEVEL", "DEBUG");
  EnvironmentVariable format("WHIPPET_LOG_FORMAT", "json");
  auto options = logging_options_from_environment();
  EXPECT_EQ(options.level, LogLevel::kDebug);
  EXPECT_TRUE(options.json);

  EnvironmentVariable off("WHIPPET_LOG_LEVEL", "off");
  EnvironmentVariable text("WHIPPET_LOG_FORMAT", "Text");
  options = logging_options_from_environment();
  EXPECT_EQ(options.level, LogLevel::kOff);
  EXPECT_FALSE(options.json);
}

TEST(LoggingEnvironmentTest, RejectsUnknownValues) {
  for (const auto& [name, value] : {std::pair{"WHIPPET_LOG_LEVEL", "verbose"},
                                    std::pair{"WHIPPET_LOG_FORMAT", "yaml"}}) {
    EnvironmentVariable variable(name, value);
    try {
      logging_options_from_environment();
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidConfig);
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace whippet
