#include "fanout_service.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "fanout_snapshot.h"
#include "record_messages.h"
#include "status_mapping.h"
#include "whippet/error.h"

namespace whippet::fanout {

namespace {

constexpr std::size_t kMaxSubscriberName = 100;
constexpr std::chrono::milliseconds kMinAckDeadline{100};
constexpr std::chrono::milliseconds kMaxAckDeadline{3600 * 1000};
// More than anyone can have in flight: a larger range is a client bug.
constexpr int64_t kMaxRangeLength = 10'000'000;

bool valid_subscriber_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxSubscriberName &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}

RecordFilter filter_of(const v1::RecordFilter& filter) {
  std::vector<HeaderCondition> headers;
  for (const auto& header : filter.headers()) {
    if (header.key().empty()) {
      throw Error(ErrorCode::kInvalidArgument, "filter.headers[].key must not be empty");
    }
    HeaderCondition condition{header.key(), std::nullopt};
    if (header.has_value()) condition.value = header.value();
    headers.push_back(std::move(condition));
  }
  std::set<Bytes> keys(filter.keys().begin(), filter.keys().end());
  std::optional<Bytes> prefix;
  if (filter.has_key_prefix()) prefix = filter.key_prefix();
  return RecordFilter(std::move(headers), std::move(keys), std::move(prefix));
}

// The contract's methods (fanout_service_test.cc compares them with the
// proto's service descriptor), indexed by MethodIndex.
enum MethodIndex { kSubscribe, kAcknowledge, kSnapshot };
constexpr FanoutServiceImpl::Method kMethods[] = {
    {"/whippet.v1.FanoutService/Subscribe", true},
    {"/whippet.v1.FanoutService/Acknowledge", false},
    {"/whippet.v1.FanoutService/Snapshot", false},
};

grpc::internal::RpcServiceMethod* registered(
    MethodIndex index, grpc::internal::MethodHandler* handler) {
  using grpc::internal::RpcMethod;
  const auto& method = kMethods[index];
  return new grpc::internal::RpcServiceMethod(
      method.path, method.server_streaming ? RpcMethod::SERVER_STREAMING : RpcMethod::NORMAL_RPC,
      handler);
}

}  // namespace

std::span<const FanoutServiceImpl::Method> FanoutServiceImpl::methods() { return kMethods; }

FanoutServiceImpl::FanoutServiceImpl(SubscriberRegistry& registry, AdminOptions admin)
    : registry_(registry), admin_(std::move(admin)) {
  using Base = google::protobuf::MessageLite;
  AddMethod(registered(
      kSubscribe,
      new grpc::internal::ServerStreamingHandler<FanoutServiceImpl, v1::SubscribeRequest,
                                                 grpc::ByteBuffer>(
          [](FanoutServiceImpl* service, grpc::ServerContext* context,
             const v1::SubscribeRequest* request, grpc::ServerWriter<grpc::ByteBuffer>* writer) {
            return service->Subscribe(context, request, writer);
          },
          this)));
  AddMethod(registered(
      kAcknowledge,
      new grpc::internal::RpcMethodHandler<FanoutServiceImpl, v1::AcknowledgeRequest,
                                           v1::AcknowledgeResponse, Base, Base>(
          [](FanoutServiceImpl* service, grpc::ServerContext* context,
             const v1::AcknowledgeRequest* request, v1::AcknowledgeResponse* response) {
            return service->Acknowledge(context, request, response);
          },
          this)));
  AddMethod(registered(
      kSnapshot,
      new grpc::internal::RpcMethodHandler<FanoutServiceImpl, v1::FanoutSnapshotRequest,
                                           v1::FanoutSnapshotResponse, Base, Base>(
          [](FanoutServiceImpl* service, grpc::ServerContext* context,
             const v1::FanoutSnapshotRequest* request, v1::FanoutSnapshotResponse* response) {
            return service->Snapshot(context, request, response);
          },
          this)));
}

SessionSettings FanoutServiceImpl::settings_of(const v1::SubscribeRequest& request) const {
  sidecar::validate_topic_name(request.topic(), "topic");
  if (!valid_subscriber_name(request.subscriber())) {
    throw Error(ErrorCode::kInvalidArgument,
                "subscriber must be 1 to 100 characters of [A-Za-z0-9._-], got \"" +
                    request.subscriber().substr(0, kMaxSubscriberName) + "\"");
  }
  const auto& defaults = registry_.options();
  SessionSettings settings;
  settings.topic = request.topic();
  settings.subscriber = request.subscriber();
  settings.filter = filter_of(request.filter());
  const auto& flow = request.flow();
  settings.max_in_flight = flow.max_in_flight() == 0 ? defaults.max_in_flight : flow.max_in_flight();
  if (settings.max_in_flight > defaults.max_in_flight_limit) {
    throw Error(ErrorCode::kInvalidArgument,
                "flow.max_in_flight must be at most " +
                    std::to_string(defaults.max_in_flight_limit) + ", got " +
                    std::to_string(settings.max_in_flight));
  }
  settings.ack_deadline = flow.ack_deadline_ms() == 0
                              ? defaults.ack_deadline
                              : std::chrono::milliseconds(flow.ack_deadline_ms());
  if (settings.ack_deadline < kMinAckDeadline || settings.ack_deadline > kMaxAckDeadline) {
    throw Error(ErrorCode::kInvalidArgument,
                "flow.ack_deadline_ms must be between 100 and 3600000, got " +
                    std::to_string(flow.ack_deadline_ms()));
  }
  settings.records_per_second = flow.records_per_second();
  settings.bytes_per_second = flow.bytes_per_second();
  settings.start =
      request.start() == v1::LATEST ? StartPosition::kLatest : StartPosition::kEarliest;
  return settings;
}

void FanoutServiceImpl::require_topic(const std::string& topic) {
  std::lock_guard lock(admin_mutex_);
  admin_.describe_topic(topic);  // Error(kNotFound / kUnknownTopic) when absent
}

grpc::Status FanoutServiceImpl::Subscribe(grpc::ServerContext* context,
                                          const v1::SubscribeRequest* request,
                                          grpc::ServerWriter<grpc::ByteBuffer>* writer) {
  std::shared_ptr<SubscriberSession> session;
  try {
    auto settings = settings_of(*request);
    require_topic(settings.topic);
    session = registry_.open(std::move(settings), [context] { context->TryCancel(); });
  } catch (const SubscriberLimitReached& error) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, error.what()};
  } catch (const Error& error) {
    return sidecar::to_status(error);
  }
  spdlog::info("fanout {}: subscriber {} connected (session {}, {})", request->topic(),
               request->subscriber(), session->settings().id, session->settings().filter.describe());
  SessionEnd end = SessionEnd::kStreamBroken;
  try {
    end = session->run(
        // A write to a cancelled stream fails: no need to ask first (asking
        // polls the call, a cost per message).
        [&](const grpc::ByteBuffer& event) { return writer->Write(event); },
        [context] { return context->IsCancelled(); });
  } catch (const std::exception& error) {
    spdlog::error("fanout {}: session {} failed: {}", request->topic(), session->settings().id,
                  error.what());
    registry_.close(*session);
    return {grpc::StatusCode::INTERNAL, error.what()};
  }
  const auto reason = session->end_reason();
  registry_.close(*session);
  spdlog::info("fanout {}: subscriber {} session {} ended: {}", request->topic(),
               request->subscriber(), session->settings().id, reason);
  switch (end) {
    case SessionEnd::kCutOff:
      return {grpc::StatusCode::ABORTED, "cut off as too slow: " + reason};
    case SessionEnd::kStopped:
      return {reason.starts_with("replaced") ? grpc::StatusCode::ABORTED
                                             : grpc::StatusCode::UNAVAILABLE,
              reason};
    case SessionEnd::kStreamBroken:
      break;
  }
  return grpc::Status::OK;
}

grpc::Status FanoutServiceImpl::Acknowledge(grpc::ServerContext* /*context*/,
                                            const v1::AcknowledgeRequest* request,
                                            v1::AcknowledgeResponse* response) {
  const auto session = registry_.find(request->session_id());
  if (!session) {
    return {grpc::StatusCode::NOT_FOUND,
            "session " + request->session_id().substr(0, 200) +
                " has ended (or never existed here): its unacknowledged records are pushed "
                "again to the subscriber's next stream"};
  }
  // All or nothing: a bad range refuses the whole request.
  for (const auto& partition : request->acknowledged()) {
    for (const auto& range : partition.ranges()) {
      // Offsets are not negative: checked first, the difference cannot overflow.
      if (range.first() < 0 || range.last() < range.first() ||
          range.last() - range.first() > kMaxRangeLength) {
        return {grpc::StatusCode::INVALID_ARGUMENT,
                "acknowledged[].ranges[] must have 0 <= first <= last and span at most " +
                    std::to_string(kMaxRangeLength) + " offsets, got [" +
                    std::to_string(range.first()) + ", " + std::to_string(range.last()) + "]"};
      }
    }
  }
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const auto& partition : request->acknowledged()) {
    ranges.clear();
    for (const auto offset : partition.offsets()) ranges.emplace_back(offset, offset);
    for (const auto& range : partition.ranges()) ranges.emplace_back(range.first(), range.last());
    const auto result = session->acknowledge(partition.partition(), ranges);
    response->set_accepted(response->accepted() + result.accepted);
    response->set_ignored(response->ignored() + result.ignored);
  }
  return grpc::Status::OK;
}

grpc::Status FanoutServiceImpl::Snapshot(grpc::ServerContext* /*context*/,
                                         const v1::FanoutSnapshotRequest* /*request*/,
                                         v1::FanoutSnapshotResponse* response) {
  response->set_json(snapshot_json(registry_).dump());
  return grpc::Status::OK;
}

}  // namespace whippet::fanout
