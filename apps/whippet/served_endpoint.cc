#include "served_endpoint.h"

namespace whippet::cli {

std::optional<metrics::MetricsHttpServerOptions> ServedEndpoint::metrics_http() const {
  if (!metrics_port) return std::nullopt;
  return metrics::MetricsHttpServerOptions{metrics_host, *metrics_port};
}

void add_endpoint_options(CLI::App& command, ServedEndpoint& endpoint) {
  command.add_option("--listen", endpoint.listen,
                     "host:port to serve gRPC on (port 0: any free port, printed at start)")
      ->capture_default_str();
  command.add_option("--metrics-port", endpoint.metrics_port,
                     "Serve Prometheus /metrics on this port (0: any free port); off by default")
      ->check(CLI::Range(0, 65535));
  command.add_option("--metrics-host", endpoint.metrics_host,
                     "Address the metrics endpoint binds to")
      ->capture_default_str();
}

void announce(const std::string& name, const ServedEndpoint& endpoint, int port,
              const std::string& metrics_url, const ClusterTarget& target) {
  const auto host = endpoint.listen.substr(0, endpoint.listen.rfind(':'));
  std::cout << name << ": listening on " << host << ":" << port << "\n";
  if (!metrics_url.empty()) std::cout << name << ": metrics on " << metrics_url << "/metrics\n";
  std::cout << name << ": " << target.describe() << "\n" << std::flush;
}

}  // namespace whippet::cli
