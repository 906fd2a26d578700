#include "embedded_state.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "admin_api_client.h"
#include "whippet/error.h"

namespace whippet::cli {
namespace {

bool process_exists(pid_t pid) {
  // Signal 0 checks existence without sending anything; EPERM still means
  // the process is there, only owned by someone else.
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

}  // namespace

std::filesystem::path embedded_state_path() {
  if (const char* home = std::getenv("WHIPPET_HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / "embedded.json";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "whippet" / "embedded.json";
  }
  return std::filesystem::temp_directory_path() / "whippet" / "embedded.json";
}

std::optional<EmbeddedState> read_embedded_state() {
  const auto path = embedded_state_path();
  std::ifstream file(path);
  if (!file) return std::nullopt;
  try {
    const auto json = nlohmann::json::parse(file);
    return EmbeddedState{json.at("bootstrap").get<std::string>(),
                         json.at("admin_url").get<std::string>(), json.at("pid").get<pid_t>()};
  } catch (const nlohmann::json::exception& error) {
    spdlog::warn("ignoring unreadable state file {}: {}", path.string(), error.what());
    return std::nullopt;
  }
}

std::optional<EmbeddedState> find_running_embedded_cluster() {
  auto state = read_embedded_state();
  if (!state) return std::nullopt;
  if (!process_exists(state->pid)) {
    spdlog::info("ignoring stale state file {}: process {} is gone",
                 embedded_state_path().string(), state->pid);
    return std::nullopt;
  }
  // The pid may have been reused by an unrelated process: only an answer
  // from the admin API naming the same bootstrap address proves it is ours.
  const auto answered = AdminApiClient(state->admin_url).health();
  if (!answered || *answered != state->bootstrap_servers) {
    spdlog::info("ignoring state file {}: nothing answers at {}", embedded_state_path().string(),
                 state->admin_url);
    return std::nullopt;
  }
  return state;
}

void write_embedded_state(const EmbeddedState& state) {
  const auto path = embedded_state_path();
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot create " + path.parent_path().string() + ": " + error.message());
  }
  const auto temporary = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temporary, std::ios::trunc);
    file << nlohmann::json{{"bootstrap", state.bootstrap_servers},
                           {"admin_url", state.admin_url},
                           {"pid", state.pid}}
                .dump(2)
         << '\n';
    if (!file.flush()) {
      throw Error(ErrorCode::kInvalidArgument, "cannot write " + temporary);
    }
  }
  std::filesystem::rename(temporary, path, error);
  if (error) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot write " + path.string() + ": " + error.message());
  }
}

void remove_embedded_state(pid_t owner) {
  const auto state = read_embedded_state();
  if (!state || state->pid != owner) return;
  std::error_code ignored;  // already gone is as good as removed
  std::filesystem::remove(embedded_state_path(), ignored);
}

}  // namespace whippet::cli
