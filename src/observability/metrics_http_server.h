#pragma once

// The routes of the metrics endpoint, kept apart from the server's thread
// and lifetime so that they read as a table.

#include <functional>
#include <string>

namespace httplib {
class Server;
}

namespace whippet::observability {

inline constexpr const char* kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// GET /metrics answers render(), GET /healthz answers "ok"; other methods on
// those paths 405, anything else 404.
void add_metrics_routes(httplib::Server& server, std::function<std::string()> render);

}  // namespace whippet::observability
