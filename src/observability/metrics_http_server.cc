#include "observability/metrics_http_server.h"

#include <sys/socket.h>

#include <exception>
#include <memory>
#include <thread>

#include <httplib.h>

#include "common/thread_name.h"
#include "whippet/error.h"
#include "whippet/prometheus.h"

namespace whippet::observability {
namespace {

// Paths the server knows, as the pattern httplib matches a whole path against.
constexpr const char* kKnownPaths = "/metrics|/healthz";

void method_not_allowed(const httplib::Request& /*request*/, httplib::Response& response) {
  response.status = 405;
  // httplib answers HEAD through the GET routes.
  response.set_header("Allow", "GET, HEAD");
  response.set_content("method not allowed\n", "text/plain");
}

}  // namespace

void add_metrics_routes(httplib::Server& server, std::function<std::string()> render) {
  server.Get("/metrics", [render = std::move(render)](const httplib::Request& /*request*/,
                                                      httplib::Response& response) {
    try {
      response.set_content(render(), kExpositionContentType);
    } catch (const std::exception& error) {
      response.status = 500;
      response.set_content(std::string("cannot render metrics: ") + error.what() + "\n",
                           "text/plain");
    }
  });
  server.Get("/healthz", [](const httplib::Request& /*request*/, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server.Post(kKnownPaths, method_not_allowed);
  server.Put(kKnownPaths, method_not_allowed);
  server.Patch(kKnownPaths, method_not_allowed);
  server.Delete(kKnownPaths, method_not_allowed);
  server.Options(kKnownPaths, method_not_allowed);
  server.set_error_handler([](const httplib::Request& /*request*/, httplib::Response& response) {
    if (response.status == 404) response.set_content("not found\n", "text/plain");
  });
}

}  // namespace whippet::observability

namespace whippet::metrics {
namespace {

// A scrape and a health check at once is the expected load; the default pool
// would start a thread per core for nothing.
constexpr std::size_t kServerThreads = 2;

// How long the constructor waits for the server loop to answer its own
// health check; only an overloaded machine takes more than milliseconds.
constexpr time_t kStartupTimeoutSeconds = 10;

// httplib's default sets SO_REUSEPORT, which lets a second server bind a
// port already serving and silently take half of its scrapes. SO_REUSEADDR
// alone still allows a restart while old connections linger in TIME_WAIT.
void reuse_address_only(socket_t socket) {
  int enabled = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &enabled, sizeof enabled);
}

// Where this process reaches its own server: a wildcard address accepts
// connections but is not one to connect to.
std::string local_address_of(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

}  // namespace

struct MetricsHttpServer::Impl {
  std::shared_ptr<const PrometheusSink> sink;
  MetricsHttpServerOptions options;
  httplib::Server server;
  int port = -1;
  std::thread thread;

  void bind();
  bool answers_health_check() const;
};

void MetricsHttpServer::Impl::bind() {
  port = options.port == 0 ? server.bind_to_any_port(options.host)
                           : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "metrics server cannot listen on " + options.host + ":" +
                    std::to_string(options.port) + " (in use? choose another port, or 0 for any)");
  }
}

bool MetricsHttpServer::Impl::answers_health_check() const {
  httplib::Client client(local_address_of(options.host), port);
  client.set_connection_timeout(kStartupTimeoutSeconds, 0);
  client.set_read_timeout(kStartupTimeoutSeconds, 0);
  const auto result = client.Get("/healthz");
  return result && result->status == 200;
}

MetricsHttpServer::MetricsHttpServer(std::shared_ptr<const PrometheusSink> sink,
                                     MetricsHttpServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!sink) throw Error(ErrorCode::kInvalidArgument, "metrics server needs a sink");
  impl_->sink = std::move(sink);
  impl_->options = std::move(options);
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  impl_->server.set_socket_options(reuse_address_only);
  observability::add_metrics_routes(impl_->server,
                                    [sink = impl_->sink] { return sink->render(); });
  impl_->bind();
  impl_->thread = std::thread([impl = impl_.get()] {
    common::name_this_thread("whippet:metrics");
    impl->server.listen_after_bind();
  });
  // httplib's stop() does nothing until the loop runs, so the destructor
  // could hang on a loop that starts after it. An answered request proves
  // the loop runs; no polling needed.
  if (!impl_->answers_health_check()) {
    const auto message = "metrics server at " + url() + " does not answer its own health check";
    if (impl_->server.is_running()) {
      impl_->server.stop();
      impl_->thread.join();
    } else {
      // The loop may still start, and stop() cannot reach it before it does:
      // leave the thread and what it uses to the process rather than hang.
      impl_->thread.detach();
      static_cast<void>(impl_.release());
    }
    throw Error(ErrorCode::kTimeout, message);
  }
}

MetricsHttpServer::~MetricsHttpServer() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsHttpServer::port() const { return impl_ ? impl_->port : -1; }

std::string MetricsHttpServer::url() const {
  const auto host = impl_ ? impl_->options.host : std::string();
  // An IPv6 address needs brackets to be told apart from the port.
  const auto authority = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return "http://" + authority + ":" + std::to_string(port());
}

}  // namespace whippet::metrics
