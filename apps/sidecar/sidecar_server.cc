#include "sidecar_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "admin_service.h"
#include "consumer_service.h"
#include "producer_service.h"
#include "whippet/error.h"

namespace whippet::sidecar {
namespace {

constexpr std::size_t kRoomAboveLargestRecord = 1 << 20;
constexpr auto kProducerCloseTimeout = std::chrono::seconds(10);

}  // namespace

struct SidecarServer::Impl {
  SidecarOptions options;
  std::shared_ptr<metrics::PrometheusSink> sink = std::make_shared<metrics::PrometheusSink>();
  std::shared_ptr<Producer> producer;
  std::shared_ptr<SharedAdmin> admin;
  std::unique_ptr<ProducerServiceImpl> producer_service;
  std::unique_ptr<ConsumerServiceImpl> consumer_service;
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<metrics::MetricsHttpServer> metrics_server;
  int port = 0;

  std::mutex mutex;
  std::condition_variable stopped_changed;
  bool stopping = false;
  bool stopped = false;

  explicit Impl(SidecarOptions sidecar_options) : options(std::move(sidecar_options)) {
    auto& config = options.config;
    const metrics::MetricsReporter reporter({sink});
    config.producer.cluster = config.cluster;
    config.producer.metrics = reporter;
    config.consumer.cluster = config.cluster;
    config.consumer.metrics = reporter;
    config.admin.cluster = config.cluster;
    producer = std::make_shared<Producer>(config.producer);
    admin = std::make_shared<SharedAdmin>(config.admin);
    producer_service = std::make_unique<ProducerServiceImpl>(producer);
    consumer_service = std::make_unique<ConsumerServiceImpl>(ConsumerServiceOptions{
        SubscriptionDefaults{config.consumer, options.max_in_flight, options.ack_deadline}, admin,
        sink, options.max_subscriptions});
    admin_service = std::make_unique<AdminServiceImpl>(admin);
    start_grpc();
    if (options.metrics_http) {
      metrics_server = std::make_unique<metrics::MetricsHttpServer>(sink, *options.metrics_http);
    }
  }

  void start_grpc() {
    grpc::EnableDefaultHealthCheckService(true);
    const auto max_message = options.max_message_bytes != 0
                                 ? options.max_message_bytes
                                 : options.config.producer.max_record_bytes + kRoomAboveLargestRecord;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(), &port);
    builder.SetMaxReceiveMessageSize(static_cast<int>(max_message));
    builder.RegisterService(producer_service.get());
    builder.RegisterService(consumer_service.get());
    builder.RegisterService(admin_service.get());
    server = builder.BuildAndStart();
    if (!server || port == 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "cannot listen on " + options.listen_address +
                      ": give a free host:port (--listen), or port 0 for any free one");
    }
  }

  void shutdown() {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
    }
    spdlog::info("sidecar: shutting down, draining for up to {} ms",
                 options.drain_timeout.count());
    server->GetHealthCheckService()->Shutdown();  // NOT_SERVING from now on
    consumer_service->shutdown(options.drain_timeout);
    // Unary calls in progress get a moment; streams were ended above.
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server->Wait();
    try {
      producer->close(kProducerCloseTimeout);
    } catch (const std::exception& error) {
      spdlog::warn("sidecar: closing the producer: {}", error.what());
    }
    metrics_server.reset();
    std::lock_guard lock(mutex);
    stopped = true;
    stopped_changed.notify_all();
  }
};

SidecarServer::SidecarServer(SidecarOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SidecarServer::~SidecarServer() {
  shutdown();
  wait();
}

int SidecarServer::port() const { return impl_->port; }

std::string SidecarServer::metrics_url() const {
  return impl_->metrics_server ? impl_->metrics_server->url() : std::string();
}

int SidecarServer::metrics_port() const {
  return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}

void SidecarServer::shutdown() { impl_->shutdown(); }

void SidecarServer::wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->stopped_changed.wait(lock, [&] { return impl_->stopped; });
}

}  // namespace whippet::sidecar
