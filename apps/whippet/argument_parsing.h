#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "whippet/record.h"

namespace whippet::cli {

// "key=value" -> {key, value}; throws Error(kInvalidArgument) naming `what`
// (e.g. "--header") when there is no '=' or the key is empty.
std::pair<std::string, std::string> split_key_value(const std::string& text,
                                                    const std::string& what);

Headers parse_headers(const std::vector<std::string>& texts);
std::map<std::string, std::string> parse_topic_configs(const std::vector<std::string>& texts);

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

// "orders" or "orders:4"; throws Error(kInvalidArgument) on a bad count.
TopicSpec parse_topic_spec(const std::string& text, int default_partitions);

// CLI11 checks for the forms above, so that a malformed argument is a usage
// error (exit code 2) reported before anything runs.
CLI::Validator key_value_form(const std::string& what);
CLI::Validator topic_spec_form();

}  // namespace whippet::cli
