#include <charconv>
#include <cstdlib>

#include "config/configuration_sections.h"
#include "whippet/config.h"

namespace whippet {
namespace {

// An empty variable counts as unset: `WHIPPET_BROKERS= cmd` in a shell
// script usually means "no override", not "use the embedded cluster".
std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

[[noreturn]] void invalid(const char* name, const std::string& value, const char* expected) {
  throw Error(ErrorCode::kInvalidConfig, std::string("environment variable ") + name + "=\"" +
                                             value + "\": expected " + expected);
}

}  // namespace

void apply_environment(WhippetConfig& config) {
  if (auto brokers = variable("WHIPPET_BROKERS")) config.cluster.brokers = *brokers;
  if (auto client_id = variable("WHIPPET_CLIENT_ID")) config.cluster.client_id = *client_id;
  if (auto group_id = variable("WHIPPET_GROUP_ID")) config.consumer.group_id = *group_id;
  if (auto offset = variable("WHIPPET_INITIAL_OFFSET")) {
    if (*offset == "earliest") {
      config.consumer.initial_offset = InitialOffset::kEarliest;
    } else if (*offset == "latest") {
      config.consumer.initial_offset = InitialOffset::kLatest;
    } else {
      invalid("WHIPPET_INITIAL_OFFSET", *offset, "earliest or latest");
    }
  }
  if (auto threads = variable("WHIPPET_WORKER_THREADS")) {
    std::size_t parsed = 0;
    const auto* end = threads->data() + threads->size();
    const auto [stopped, error] = std::from_chars(threads->data(), end, parsed);
    if (error != std::errc() || stopped != end || parsed == 0) {
      invalid("WHIPPET_WORKER_THREADS", *threads, "a positive integer");
    }
    config.consumer.worker_threads = parsed;
  }
  // The cluster may have changed: hand it to every client again.
  config::share_cluster(config);
}

}  // namespace whippet
