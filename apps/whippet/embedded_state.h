#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

namespace whippet::cli {

// How a running `whippet up` tells other whippet commands where it is:
// ${WHIPPET_HOME:-$HOME/.cache/whippet}/embedded.json.
struct EmbeddedState {
  std::string bootstrap_servers;
  std::string admin_url;
  pid_t pid = 0;
};

std::filesystem::path embedded_state_path();

// The state file's content, whether or not its process still runs; none when
// there is no file. A file that cannot be parsed is reported and ignored.
std::optional<EmbeddedState> read_embedded_state();

// The state of a `whippet up` that is alive (its pid exists) and answers on
// its admin API with the bootstrap address the file names.
std::optional<EmbeddedState> find_running_embedded_cluster();

// Written atomically (temporary file, then rename), so that a reader never
// sees half a file.
void write_embedded_state(const EmbeddedState& state);

// Removes the file if it still describes this process.
void remove_embedded_state(pid_t owner);

}  // namespace whippet::cli
