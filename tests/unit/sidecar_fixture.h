#pragma once

// A sidecar on the embedded cluster, served in-process on a free loopback
// port, with stubs for its three services and a Consume stream helper.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "embedded_consumer_fixture.h"
#include "sidecar_server.h"
#include "whippet/v1/sidecar.grpc.pb.h"

namespace whippet {

// A unary call with raw bytes each way: for requests no stub would send.
inline std::pair<grpc::Status, std::string> call_with_bytes(const std::shared_ptr<grpc::Channel>& channel,
                                                     const std::string& method,
                                                     const std::string& bytes) {
  grpc::GenericStub generic(channel);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  std::mutex mutex;
  std::condition_variable done;
  std::optional<grpc::Status> status;
  generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                    [&](grpc::Status result) {
                      std::lock_guard lock(mutex);
                      status = result;
                      done.notify_all();
                    });
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return status.has_value(); });
  std::vector<grpc::Slice> slices;
  std::string answer;
  if (status->ok() && response.Dump(&slices).ok()) {
    for (const auto& part : slices) answer.append(reinterpret_cast<const char*>(part.begin()), part.size());
  }
  return {*status, answer};
}

// grpc.health.v1.HealthCheckResponse{status: SERVING}: field 1, varint 1.
inline const std::string kServing = "\x08\x01";

inline bool serving(const std::shared_ptr<grpc::Channel>& channel) {
  const auto [status, answer] = call_with_bytes(channel, "/grpc.health.v1.Health/Check", "");
  return status.ok() && answer == kServing;
}

// One Consume stream, bounded by a deadline so that a test never hangs.
class ConsumeStream {
 public:
  ConsumeStream(v1::ConsumerService::Stub& stub, std::chrono::seconds deadline) {
    context_.set_deadline(std::chrono::system_clock::now() + deadline);
    stream_ = stub.Consume(&context_);
  }
  ~ConsumeStream() {
    if (finished_) return;
    context_.TryCancel();
    stream_->Finish().ok();
  }

  bool send(const v1::ConsumeRequest& request) { return stream_->Write(request); }

  // Subscribes and returns the Subscribed answer, or nothing when the stream
  // ended (then finish() says why).
  std::optional<v1::Subscribed> subscribe(const v1::Subscription& subscription) {
    v1::ConsumeRequest request;
    *request.mutable_subscribe() = subscription;
    if (!send(request)) return std::nullopt;
    v1::ConsumeResponse response;
    if (!stream_->Read(&response) || !response.has_subscribed()) return std::nullopt;
    return response.subscribed();
  }

  // Reads deliveries until `count` arrived or the stream ended.
  std::vector<v1::Delivery> read(std::size_t count) {
    std::vector<v1::Delivery> deliveries;
    v1::ConsumeResponse response;
    while (deliveries.size() < count && stream_->Read(&response)) {
      for (const auto& delivery : response.deliveries().deliveries()) deliveries.push_back(delivery);
    }
    return deliveries;
  }

  bool answer(const std::vector<v1::Delivery>& deliveries, v1::OutcomeKind kind,
              const std::string& message = {}) {
    v1::ConsumeRequest request;
    for (const auto& delivery : deliveries) {
      auto* outcome = request.mutable_outcomes()->add_outcomes();
      outcome->set_delivery_id(delivery.delivery_id());
      outcome->set_kind(kind);
      outcome->set_error_message(message);
    }
    return send(request);
  }

  // Half-closes and returns the server's status, reading what is left.
  grpc::Status finish() {
    stream_->WritesDone();
    v1::ConsumeResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    finished_ = true;
    return stream_->Finish();
  }

  void cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  bool finished_ = false;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>> stream_;
};

class SidecarFixture : public EmbeddedConsumerFixture {
 protected:
  void SetUp() override {
    EmbeddedConsumerFixture::SetUp();
    start_sidecar();
  }

  void start_sidecar(std::size_t max_subscriptions = 256) {
    sidecar::SidecarOptions options;
    options.max_subscriptions = max_subscriptions;
    options.listen_address = "127.0.0.1:0";
    options.config.cluster = cluster_options_;
    options.config.consumer = this->options("unused");
    options.drain_timeout = std::chrono::milliseconds(2000);
    options.metrics_http = metrics::MetricsHttpServerOptions{};
    sidecar_ = std::make_unique<sidecar::SidecarServer>(std::move(options));
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(sidecar_->port()),
                                   grpc::InsecureChannelCredentials());
    producer_ = v1::ProducerService::NewStub(channel_);
    consumer_ = v1::ConsumerService::NewStub(channel_);
    admin_ = v1::AdminService::NewStub(channel_);
  }

  v1::Subscription subscription(const std::string& group) const {
    v1::Subscription subscription;
    subscription.add_topics(topic_);
    subscription.set_group(group);
    subscription.set_initial_offset(v1::INITIAL_OFFSET_EARLIEST);
    return subscription;
  }

  std::unique_ptr<ConsumeStream> open_stream() {
    return std::make_unique<ConsumeStream>(*consumer_, std::chrono::seconds(60));
  }

  grpc::Status produce(const v1::ProduceRequest& request, v1::ProduceResult* result) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return producer_->Produce(&context, request, result);
  }

  v1::ProduceRequest numbered(int number) const {
    v1::ProduceRequest request;
    request.set_topic(topic_);
    request.set_key("key-" + std::to_string(number));
    request.set_value(std::to_string(number));
    return request;
  }

  void produce_numbered_records(int count) {
    for (int i = 0; i < count; ++i) {
      v1::ProduceResult result;
      ASSERT_TRUE(produce(numbered(i), &result).ok());
    }
  }

  std::unique_ptr<sidecar::SidecarServer> sidecar_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ProducerService::Stub> producer_;
  std::unique_ptr<v1::ConsumerService::Stub> consumer_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace whippet
