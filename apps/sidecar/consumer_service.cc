#include "consumer_service.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "delivery_writer.h"
#include "status_mapping.h"
#include "subscription_session.h"
#include "whippet/consumer.h"
#include "whippet/error.h"

namespace whippet::sidecar {

using Stream = grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>;

struct ActiveSubscription {
  std::string id;
  SubscriptionOptions options;
  grpc::ServerContext* context = nullptr;  // valid while registered
  std::unique_ptr<SubscriptionSession> session;
  std::unique_ptr<DeliveryWriter> writer;
  std::unique_ptr<Consumer> consumer;
  // The consumer, for the writer thread's health checks; the writer stops
  // before the consumer is closed.
  std::atomic<const Consumer*> running{nullptr};
};

ConsumerServiceImpl::ConsumerServiceImpl(ConsumerServiceOptions options)
    : options_(std::move(options)) {
  if (options_.sink) {
    snapshot_source_ = options_.sink->add_snapshot_source([this] {
      std::vector<ConsumerSnapshot> snapshots;
      std::lock_guard lock(mutex_);
      for (const auto& [id, active] : active_) {
        if (active->consumer) snapshots.push_back(active->consumer->snapshot());
      }
      return snapshots;
    });
  }
}

ConsumerServiceImpl::~ConsumerServiceImpl() {
  if (options_.sink) options_.sink->remove_snapshot_source(snapshot_source_);
}

grpc::Status ConsumerServiceImpl::Consume(grpc::ServerContext* context, Stream* stream) {
  v1::ConsumeRequest request;
  if (!stream->Read(&request)) return grpc::Status::OK;  // closed before subscribing
  if (request.request_case() != v1::ConsumeRequest::kSubscribe) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "the first message on a Consume stream must be a Subscription; outcomes can only "
            "answer deliveries of a subscription"};
  }
  std::shared_ptr<ActiveSubscription> active;
  try {
    active = open(context, request.subscribe(), stream);
  } catch (const Error& error) {
    spdlog::warn("subscription refused: {}", error.what());
    return to_status(error);
  }
  if (!active) {
    return {grpc::StatusCode::UNAVAILABLE,
            "the sidecar is shutting down: subscribe again, to this sidecar once restarted or to "
            "another one"};
  }
  auto status = serve(*active, stream);
  close(active);
  return status;
}

std::shared_ptr<ActiveSubscription> ConsumerServiceImpl::open(
    grpc::ServerContext* context, const v1::Subscription& subscription, Stream* stream) {
  auto active = std::make_shared<ActiveSubscription>();
  active->options = to_subscription_options(subscription, options_.defaults);
  options_.admin->require_topics(active->options.consumer.topics);
  {
    std::lock_guard lock(mutex_);
    if (active_.size() >= options_.max_subscriptions) {
      throw Error(ErrorCode::kInvalidArgument,
                  "this sidecar already serves " + std::to_string(active_.size()) +
                      " subscriptions, its limit: subscribe to another sidecar");
    }
    active->id = "subscription-" + std::to_string(++last_id_);
  }
  // Built completely before it is registered: Snapshot and shutdown see only
  // whole subscriptions.
  auto* raw = active.get();
  active->context = context;
  active->session = std::make_unique<SubscriptionSession>(
      SessionSettings{active->options.max_in_flight, active->options.ack_deadline},
      [raw](v1::Delivery delivery) { raw->writer->send(std::move(delivery)); });
  active->writer = std::make_unique<DeliveryWriter>(DeliveryWriterCallbacks{
      [stream](const v1::ConsumeResponse& message) { return stream->Write(message); },
      [raw] { raw->session->abandon(); },
      [raw](const std::vector<uint64_t>& ids) { raw->session->written(ids); },
      [context] { context->TryCancel(); },
      [raw] {
        const auto* consumer = raw->running.load();
        if (consumer == nullptr || !consumer->failed()) return true;
        spdlog::error("{}: the consumer stopped ({}); ending the stream so the client "
                      "subscribes again",
                      raw->id, consumer->error());
        return false;
      }});
  try {
    active->consumer = std::make_unique<Consumer>(
        active->options.consumer, [raw](const Record& record) { raw->session->handle(record); });
    active->running.store(active->consumer.get());
  } catch (...) {
    close(active);
    throw;
  }
  bool registered = false;
  {
    std::lock_guard lock(mutex_);
    registered = !stopping_;
    if (registered) active_.emplace(active->id, active);
  }
  if (!registered) {
    close(active);
    return nullptr;
  }
  v1::ConsumeResponse subscribed;  // deliveries queued meanwhile follow it
  subscribed.mutable_subscribed()->set_subscription_id(active->id);
  for (const auto& topic : active->options.topics_read) {
    subscribed.mutable_subscribed()->add_topics(topic);
  }
  active->writer->send_first(std::move(subscribed));
  spdlog::info("{}: group {} reads {} (at most {} in flight, ack deadline {} ms)", active->id,
               active->options.consumer.group_id, fmt::join(active->options.topics_read, ", "),
               active->options.max_in_flight, active->options.ack_deadline.count());
  return active;
}

grpc::Status ConsumerServiceImpl::serve(ActiveSubscription& active, Stream* stream) {
  v1::ConsumeRequest request;
  while (stream->Read(&request)) {
    switch (request.request_case()) {
      case v1::ConsumeRequest::kSubscribe:
        return {grpc::StatusCode::ALREADY_EXISTS,
                "this stream already carries " + active.id +
                    "; open another Consume stream for another subscription"};
      case v1::ConsumeRequest::kOutcomes: {
        auto status = active.session->apply(request.outcomes());
        if (!status.ok()) return status;
        break;
      }
      case v1::ConsumeRequest::REQUEST_NOT_SET:
        return invalid_argument("a ConsumeRequest holds neither a subscription nor outcomes");
    }
    if (active.consumer->failed()) {
      return {grpc::StatusCode::INTERNAL, "the consumer stopped: " + active.consumer->error()};
    }
  }
  return grpc::Status::OK;  // the client closed the stream, or it broke
}

void ConsumerServiceImpl::close(const std::shared_ptr<ActiveSubscription>& active) {
  // Abandoned records stay uncommitted; close() commits what was answered.
  active->session->abandon();
  active->writer->stop();
  std::unique_ptr<Consumer> consumer;
  {
    std::lock_guard lock(mutex_);
    consumer = std::move(active->consumer);
  }
  if (consumer) {
    consumer->close(active->options.consumer.drain_timeout);
    spdlog::info("{}: closed ({})", active->id, active->session->counters().dump());
  }
  std::lock_guard lock(mutex_);
  active->context = nullptr;
  active_.erase(active->id);
}

grpc::Status ConsumerServiceImpl::Snapshot(grpc::ServerContext*, const v1::SnapshotRequest*,
                                           v1::SnapshotResponse* response) {
  response->set_json(snapshot_json().dump());
  return grpc::Status::OK;
}

nlohmann::json ConsumerServiceImpl::snapshot_json() const {
  auto subscriptions = nlohmann::json::array();
  std::lock_guard lock(mutex_);
  for (const auto& [id, active] : active_) {
    nlohmann::json entry = {{"subscription_id", id},
                            {"group", active->options.consumer.group_id},
                            {"topics", active->options.topics_read},
                            {"max_in_flight", active->options.max_in_flight},
                            {"ack_deadline_ms", active->options.ack_deadline.count()},
                            {"outcomes", active->session->counters()}};
    if (active->consumer) entry["consumer"] = to_json(active->consumer->snapshot());
    subscriptions.push_back(std::move(entry));
  }
  return {{"subscriptions", subscriptions}};
}

void ConsumerServiceImpl::shutdown(std::chrono::milliseconds drain) {
  std::vector<std::shared_ptr<ActiveSubscription>> open_now;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const auto& [id, active] : active_) open_now.push_back(active);
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  for (const auto& active : open_now) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!active->session->drain(std::max(left, std::chrono::milliseconds(0)))) {
      spdlog::warn("{}: {} record(s) still unanswered after the drain; they stay uncommitted",
                   active->id, active->session->in_flight());
    }
  }
  std::lock_guard lock(mutex_);
  for (const auto& active : open_now) {
    active->session->abandon();
    if (active->context) active->context->TryCancel();
  }
}

}  // namespace whippet::sidecar
