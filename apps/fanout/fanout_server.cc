#include "fanout_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "fanout_service.h"
#include "fanout_snapshot.h"
#include "subscriber_registry.h"
#include "whippet/error.h"

namespace whippet::fanout {

namespace {

constexpr std::chrono::seconds kStreamsEndTimeout{10};
constexpr std::chrono::seconds kUnaryCallsTimeout{5};

}  // namespace

struct FanoutServer::Impl {
  std::shared_ptr<metrics::PrometheusSink> sink = std::make_shared<metrics::PrometheusSink>();
  std::unique_ptr<SubscriberRegistry> registry;
  std::unique_ptr<FanoutServiceImpl> service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<metrics::MetricsHttpServer> metrics_server;
  std::uint64_t family_source = 0;
  int port = 0;

  std::mutex mutex;
  std::condition_variable stopped_changed;
  bool stopping = false;
  bool stopped = false;

  explicit Impl(FanoutOptions options) {
    AdminOptions admin;
    admin.cluster = options.cluster;
    const auto listen_address = options.listen_address;
    const auto metrics_http = options.metrics_http;
    registry = std::make_unique<SubscriberRegistry>(std::move(options));
    service = std::make_unique<FanoutServiceImpl>(*registry, std::move(admin));
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(listen_address, grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service.get());
    server = builder.BuildAndStart();
    if (!server || port == 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "cannot listen on " + listen_address +
                      ": give a free host:port (--listen), or port 0 for any free one");
    }
    family_source = sink->add_family_source([this] { return metric_families(*registry); });
    if (metrics_http) {
      metrics_server = std::make_unique<metrics::MetricsHttpServer>(sink, *metrics_http);
    }
  }

  void shutdown() {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
    }
    spdlog::info("fanout: shutting down");
    server->GetHealthCheckService()->Shutdown();
    registry->stop_all("the proxy is shutting down; reconnect to another instance");
    if (!registry->wait_closed(kStreamsEndTimeout)) {
      spdlog::warn("fanout: streams still writing after {} s are cancelled",
                   kStreamsEndTimeout.count());
    }
    server->Shutdown(std::chrono::system_clock::now() + kUnaryCallsTimeout);
    server->Wait();
    metrics_server.reset();
    sink->remove_family_source(family_source);
    registry.reset();  // the topics' readers leave their groups
    std::lock_guard lock(mutex);
    stopped = true;
    stopped_changed.notify_all();
  }
};

FanoutServer::FanoutServer(FanoutOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FanoutServer::~FanoutServer() {
  shutdown();
  wait();
}

int FanoutServer::port() const { return impl_->port; }

std::string FanoutServer::metrics_url() const {
  return impl_->metrics_server ? impl_->metrics_server->url() : std::string();
}

std::string FanoutServer::snapshot_json() const {
  return fanout::snapshot_json(*impl_->registry).dump();
}

void FanoutServer::shutdown() { impl_->shutdown(); }

void FanoutServer::wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->stopped_changed.wait(lock, [&] { return impl_->stopped; });
}

}  // namespace whippet::fanout
