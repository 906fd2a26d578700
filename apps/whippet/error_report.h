#pragma once

#include <optional>

#include "cluster_target.h"
#include "whippet/error.h"

namespace whippet::cli {

// Prints "whippet: error: <what>" and, on a second line, what to try next.
// `target` is the cluster the command was talking to, when it got that far.
void report_error(const Error& error, const std::optional<ClusterTarget>& target);

}  // namespace whippet::cli
