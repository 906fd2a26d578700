#pragma once

// Strict, typed reading of one YAML mapping. Every key a reader asks for is
// remembered, so that whatever else the mapping holds (a typo such as
// "linger_sm") is reported instead of silently ignored.

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace whippet::config {

class YamlSection {
 public:
  // `source` names the file (or "<config>"); `path` the section ("producer").
  // For a mapping that holds exactly one of `candidates` (a key with no
  // value counts) and nothing else: which one. Throws otherwise.
  std::string one_of(std::initializer_list<const char*> candidates);

  // Throws Error(kInvalidConfig) unless `node` is a mapping or empty.
  YamlSection(YAML::Node node, std::string source, std::string path);

  void read(const char* key, std::string& target);
  void read(const char* key, bool& target);
  void read(const char* key, std::size_t& target);
  void read(const char* key, std::vector<std::string>& target);
  void read(const char* key, std::map<std::string, std::string>& target);
  // A signed integer no smaller than `minimum` (and within int).
  void read(const char* key, int& target, int minimum);
  // A finite number.
  void read(const char* key, double& target);
  // Durations are written as integer milliseconds under a "_ms" key.
  void read_milliseconds(const char* key, std::chrono::milliseconds& target);
  void read_milliseconds(const char* key, std::vector<std::chrono::milliseconds>& target);

  // The keys the mapping holds, in document order, whether or not any read
  // asked for them (a key with no value is listed too).
  std::vector<std::string> keys() const;
  // The value under `key`, none when absent or null; marks the key known.
  std::optional<YAML::Node> node(const char* key);

  // Throws Error(kInvalidConfig) "<source>:<line>: <path>.<key>: <problem>".
  [[noreturn]] void fail(const char* key, const std::string& problem) const;

  // One of a fixed set of names, e.g. acks: all|leader|none.
  template <class Value>
  void read_choice(const char* key, Value& target,
                   std::initializer_list<std::pair<const char*, Value>> choices) {
    const auto name = choice_name(key);
    if (!name) return;
    for (const auto& [candidate, value] : choices) {
      if (*name == candidate) {
        target = value;
        return;
      }
    }
    std::vector<std::string> names;
    for (const auto& choice : choices) names.emplace_back(choice.first);
    invalid_choice(key, *name, names);
  }

  // A nested mapping; none when the key is absent.
  std::optional<YamlSection> section(const char* key);

  // Throws naming the first key of the mapping that no read asked for.
  void reject_unknown_keys() const;

 private:
  std::optional<YAML::Node> value_of(const char* key);
  std::optional<std::string> choice_name(const char* key);
  long long read_integer(const char* key, const YAML::Node& value) const;
  std::string where(const char* key, const YAML::Node& value) const;
  [[noreturn]] void wrong_type(const char* key, const YAML::Node& value,
                               const std::string& expected) const;
  [[noreturn]] void invalid_choice(const char* key, const std::string& name,
                                   const std::vector<std::string>& names) const;

  YAML::Node node_;
  std::string source_;
  std::string path_;
  std::set<std::string> known_keys_;
};

}  // namespace whippet::config
