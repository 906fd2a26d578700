#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli_state.h"

namespace whippet::cli {

// Each command lives in its own command_<name>.cc; these add it to the app.
// `state` outlives parsing and holds the global options and the exit code.
void add_up_command(CLI::App& app, CliState& state);
void add_produce_command(CLI::App& app, CliState& state);
void add_consume_command(CLI::App& app, CliState& state);
void add_topics_command(CLI::App& app, CliState& state);
void add_groups_command(CLI::App& app, CliState& state);
void add_sidecar_command(CLI::App& app, CliState& state);
void add_fanout_command(CLI::App& app, CliState& state);

// A command's help footer: its examples, then a reminder of the options
// every command takes, which CLI11 lists only in `whippet --help`.
inline std::string with_global_options(const std::string& examples) {
  return examples +
         "\n\nGlobal options (see `whippet --help`): --brokers HOST:PORT, --config FILE, -v";
}

}  // namespace whippet::cli
