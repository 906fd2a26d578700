#include "argument_parsing.h"

#include <charconv>

#include "whippet/error.h"

namespace whippet::cli {

std::pair<std::string, std::string> split_key_value(const std::string& text,
                                                    const std::string& what) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw Error(ErrorCode::kInvalidArgument,
                what + " expects key=value, got '" + text + "'");
  }
  return {text.substr(0, equals), text.substr(equals + 1)};
}

Headers parse_headers(const std::vector<std::string>& texts) {
  Headers headers;
  for (const auto& text : texts) {
    auto [key, value] = split_key_value(text, "--header");
    headers.push_back({std::move(key), std::move(value)});
  }
  return headers;
}

std::map<std::string, std::string> parse_topic_configs(const std::vector<std::string>& texts) {
  std::map<std::string, std::string> configs;
  for (const auto& text : texts) configs.insert(split_key_value(text, "--config"));
  return configs;
}

TopicSpec parse_topic_spec(const std::string& text, int default_partitions) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return {text, default_partitions};
  TopicSpec spec{text.substr(0, colon), 0};
  const auto count = std::string_view(text).substr(colon + 1);
  const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(),
                                            spec.partitions);
  if (spec.name.empty() || error != std::errc() || end != count.data() + count.size() ||
      spec.partitions < 1) {
    throw Error(ErrorCode::kInvalidArgument,
                "--topic expects name or name:partitions (a positive number), got '" + text + "'");
  }
  return spec;
}

CLI::Validator key_value_form(const std::string& what) {
  return CLI::Validator(
      [what](std::string& text) -> std::string {
        try {
          split_key_value(text, what);
          return {};
        } catch (const Error& error) {
          return error.what();
        }
      },
      "KEY=VALUE");
}

CLI::Validator topic_spec_form() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          parse_topic_spec(text, 1);
          return {};
        } catch (const Error& error) {
          return error.what();
        }
      },
      "NAME[:PARTITIONS]");
}

}  // namespace whippet::cli
