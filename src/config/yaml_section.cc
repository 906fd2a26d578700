#include "config/yaml_section.h"

#include <climits>
#include <cmath>

#include "whippet/error.h"

namespace whippet::config {
namespace {

std::string join(const std::vector<std::string>& names, const char* separator) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += separator;
    text += name;
  }
  return text;
}

const char* kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

}  // namespace

YamlSection::YamlSection(YAML::Node node, std::string source, std::string path)
    : node_(std::move(node)), source_(std::move(source)), path_(std::move(path)) {
  if (!node_.IsMap() && !node_.IsNull()) {
    const auto line = node_.Mark().line >= 0 ? ":" + std::to_string(node_.Mark().line + 1) : "";
    throw Error(ErrorCode::kInvalidConfig,
                source_ + line + ": " + (path_.empty() ? "the document" : path_) +
                    ": expected a mapping of keys, got " + kind_of(node_));
  }
}

std::string YamlSection::where(const char* key, const YAML::Node& value) const {
  // yaml-cpp counts lines from 0; editors count from 1.
  const auto line = value.Mark().line >= 0 ? ":" + std::to_string(value.Mark().line + 1) : "";
  const std::string name = key;
  if (name.empty()) return source_ + line + ": " + (path_.empty() ? "the document" : path_);
  return source_ + line + ": " + (path_.empty() ? "" : path_ + ".") + name;
}

void YamlSection::wrong_type(const char* key, const YAML::Node& value,
                             const std::string& expected) const {
  const auto got = value.IsScalar() ? "\"" + value.Scalar() + "\"" : std::string(kind_of(value));
  throw Error(ErrorCode::kInvalidConfig, where(key, value) + ": expected " + expected + ", got " + got);
}

void YamlSection::invalid_choice(const char* key, const std::string& name,
                                 const std::vector<std::string>& names) const {
  const YAML::Node& mapping = node_;
  throw Error(ErrorCode::kInvalidConfig, where(key, mapping[key]) + ": \"" + name +
                                             "\" is not one of " + join(names, ", "));
}

std::optional<YAML::Node> YamlSection::value_of(const char* key) {
  known_keys_.insert(key);
  if (!node_.IsMap()) return std::nullopt;
  // Looked up through a const node: yaml-cpp's non-const operator[] would
  // insert the key into the mapping.
  const YAML::Node& mapping = node_;
  auto value = mapping[key];
  // "key:" with nothing after it is YAML null: treated as absent, so that a
  // commented-out value keeps the default.
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  return value;
}

void YamlSection::read(const char* key, std::string& target) {
  const auto value = value_of(key);
  if (!value) return;
  if (!value->IsScalar()) wrong_type(key, *value, "a string");
  target = value->Scalar();
}

void YamlSection::read(const char* key, bool& target) {
  const auto value = value_of(key);
  if (!value) return;
  bool parsed = false;
  if (!value->IsScalar() || !YAML::convert<bool>::decode(*value, parsed)) {
    wrong_type(key, *value, "true or false");
  }
  target = parsed;
}

long long YamlSection::read_integer(const char* key, const YAML::Node& value) const {
  long long parsed = 0;
  if (!value.IsScalar() || !YAML::convert<long long>::decode(value, parsed)) {
    wrong_type(key, value, "an integer");
  }
  if (parsed < 0) wrong_type(key, value, "a non-negative integer");
  return parsed;
}

void YamlSection::read(const char* key, std::size_t& target) {
  const auto value = value_of(key);
  if (!value) return;
  target = static_cast<std::size_t>(read_integer(key, *value));
}

void YamlSection::read_milliseconds(const char* key, std::chrono::milliseconds& target) {
  const auto value = value_of(key);
  if (!value) return;
  target = std::chrono::milliseconds(read_integer(key, *value));
}

void YamlSection::read(const char* key, int& target, int minimum) {
  const auto value = value_of(key);
  if (!value) return;
  long long parsed = 0;
  if (!value->IsScalar() || !YAML::convert<long long>::decode(*value, parsed)) {
    wrong_type(key, *value, "an integer");
  }
  if (parsed < minimum || parsed > INT_MAX) {
    wrong_type(key, *value,
               "an integer from " + std::to_string(minimum) + " to " + std::to_string(INT_MAX));
  }
  target = static_cast<int>(parsed);
}

void YamlSection::read(const char* key, double& target) {
  const auto value = value_of(key);
  if (!value) return;
  double parsed = 0;
  if (!value->IsScalar() || !YAML::convert<double>::decode(*value, parsed) ||
      !std::isfinite(parsed)) {
    wrong_type(key, *value, "a number");
  }
  target = parsed;
}

void YamlSection::read_milliseconds(const char* key,
                                    std::vector<std::chrono::milliseconds>& target) {
  const auto value = value_of(key);
  if (!value) return;
  if (!value->IsSequence()) wrong_type(key, *value, "a list of milliseconds");
  std::vector<std::chrono::milliseconds> items;
  for (const auto& item : *value) items.emplace_back(read_integer(key, item));
  target = std::move(items);
}

std::vector<std::string> YamlSection::keys() const {
  std::vector<std::string> names;
  if (!node_.IsMap()) return names;
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar()) {
      throw Error(ErrorCode::kInvalidConfig,
                  where("", entry.first) + ": expected names as keys, got " +
                      kind_of(entry.first));
    }
    names.push_back(entry.first.Scalar());
  }
  return names;
}

std::optional<YAML::Node> YamlSection::node(const char* key) { return value_of(key); }

std::string YamlSection::one_of(std::initializer_list<const char*> candidates) {
  std::string names;
  std::vector<std::string> found;
  for (const char* candidate : candidates) {
    names += std::string(names.empty() ? "" : ", ") + candidate;
    known_keys_.insert(candidate);
  }
  reject_unknown_keys();
  for (const auto& key : keys()) {
    for (const char* candidate : candidates) {
      if (key == candidate) found.push_back(key);
    }
  }
  if (found.empty()) fail("", "expected one of " + names);
  if (found.size() > 1) {
    fail(found[1].c_str(), "give only one of " + names + " (found both " + found[0] + " and " +
                               found[1] + ")");
  }
  return found.front();
}

void YamlSection::fail(const char* key, const std::string& problem) const {
  const YAML::Node& mapping = node_;
  const auto value = mapping.IsMap() ? mapping[key] : YAML::Node();
  throw Error(ErrorCode::kInvalidConfig,
              where(key, value.IsDefined() && value.Mark().line >= 0 ? value : mapping) + ": " +
                  problem);
}

void YamlSection::read(const char* key, std::vector<std::string>& target) {
  const auto value = value_of(key);
  if (!value) return;
  if (!value->IsSequence()) wrong_type(key, *value, "a list of strings");
  std::vector<std::string> items;
  for (const auto& item : *value) {
    if (!item.IsScalar()) wrong_type(key, item, "a list of strings");
    items.push_back(item.Scalar());
  }
  target = std::move(items);
}

void YamlSection::read(const char* key, std::map<std::string, std::string>& target) {
  const auto value = value_of(key);
  if (!value) return;
  if (!value->IsMap()) wrong_type(key, *value, "a mapping of names to values");
  for (const auto& entry : *value) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
      wrong_type(key, entry.second, "a mapping of names to plain values");
    }
    // Values stay text as written ("true", "500"): librdkafka parses them.
    target[entry.first.Scalar()] = entry.second.Scalar();
  }
}

std::optional<std::string> YamlSection::choice_name(const char* key) {
  const auto value = value_of(key);
  if (!value) return std::nullopt;
  if (!value->IsScalar()) wrong_type(key, *value, "a name");
  return value->Scalar();
}

std::optional<YamlSection> YamlSection::section(const char* key) {
  const auto value = value_of(key);
  if (!value) return std::nullopt;
  return YamlSection(*value, source_, path_.empty() ? key : path_ + "." + key);
}

void YamlSection::reject_unknown_keys() const {
  if (!node_.IsMap()) return;
  for (const auto& entry : node_) {
    const auto key = entry.first.Scalar();
    if (known_keys_.contains(key)) continue;
    std::vector<std::string> known(known_keys_.begin(), known_keys_.end());
    throw Error(ErrorCode::kInvalidConfig,
                where(key.c_str(), entry.first) + ": unknown key (known keys: " +
                    join(known, ", ") + ")");
  }
}

}  // namespace whippet::config
