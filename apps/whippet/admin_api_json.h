#pragma once

// The JSON shapes of the `whippet up` admin API, shared by its server and
// its client so that the two cannot drift apart.

#include <nlohmann/json.hpp>

#include "whippet/admin.h"
#include "whippet/error.h"

namespace whippet::cli {

nlohmann::json error_to_json(const Error& error);
// Rebuilds the server's Error; `fallback` is used when the body is not one.
Error error_from_json(const std::string& body, const std::string& fallback);

nlohmann::json group_to_json(const GroupListing& group);
GroupListing group_from_json(const nlohmann::json& json);

nlohmann::json lag_to_json(const PartitionLag& lag);
PartitionLag lag_from_json(const nlohmann::json& json);

}  // namespace whippet::cli
