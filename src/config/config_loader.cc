#include "whippet/config.h"

#include <fstream>
#include <sstream>

#include "config/configuration_sections.h"
#include "config/yaml_section.h"

namespace whippet {
namespace {

WhippetConfig parse(std::string_view yaml_text, const std::string& source) {
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    // yaml-cpp's message carries line and column already.
    throw Error(ErrorCode::kInvalidConfig, source + ": not valid YAML: " + error.what());
  }
  WhippetConfig config;
  config::YamlSection root(document, source, "");
  if (auto section = root.section("cluster")) config::read_cluster(*section, config.cluster);
  if (auto section = root.section("producer")) config::read_producer(*section, config.producer);
  if (auto section = root.section("consumer")) config::read_consumer(*section, config.consumer);
  if (auto section = root.section("admin")) config::read_admin(*section, config.admin);
  root.reject_unknown_keys();
  config::share_cluster(config);
  return config;
}

}  // namespace

WhippetConfig parse_config(std::string_view yaml_text) { return parse(yaml_text, "<config>"); }

WhippetConfig load_config(const std::filesystem::path& yaml_file) {
  std::ifstream file(yaml_file);
  if (!file) {
    throw Error(ErrorCode::kInvalidConfig, "cannot read config file " + yaml_file.string());
  }
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), yaml_file.string());
}

}  // namespace whippet
