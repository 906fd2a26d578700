#pragma once

#include <optional>
#include <string>

#include "cluster_target.h"

namespace whippet::cli {

// Options every command accepts, parsed by main before any command runs.
struct GlobalOptions {
  std::string brokers;
  std::string config_file;
  int verbosity = 0;  // -v count: 0 warnings, 1 info, 2 debug, 3+ trace
};

// Shared between main and the commands: what was asked, where the command
// went (so that error hints can name the cluster) and how it ended.
struct CliState {
  GlobalOptions global;
  std::optional<ClusterTarget> target;
  int exit_code = 0;
};

// Sends spdlog output to stderr at the level -v asks for; stdout is for data.
void configure_logging(int verbosity);

}  // namespace whippet::cli
