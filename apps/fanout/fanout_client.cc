#include "fanout_client.h"

#include <spdlog/spdlog.h>

#include <map>

#include "subscribe_call.h"
#include "subscribe_event_reader.h"

namespace whippet::fanout {

namespace {

// Runs of consecutive offsets per partition, in the order they arrived.
void add_ranges(const std::vector<DeliveredRecord>& records, v1::AcknowledgeRequest& request) {
  std::map<int32_t, v1::AcknowledgeRequest::PartitionOffsets*> by_partition;
  for (const auto& delivered : records) {
    auto& entry = by_partition[delivered.record.partition];
    if (!entry) {
      entry = request.add_acknowledged();
      entry->set_partition(delivered.record.partition);
    }
    const auto offset = delivered.record.offset;
    auto* ranges = entry->mutable_ranges();
    if (!ranges->empty() && ranges->rbegin()->last() + 1 == offset) {
      ranges->rbegin()->set_last(offset);
    } else {
      auto* range = entry->add_ranges();
      range->set_first(offset);
      range->set_last(offset);
    }
  }
}

}  // namespace

FanoutClient::FanoutClient(FanoutClientOptions options, Callback on_records)
    : options_(std::move(options)), on_records_(std::move(on_records)) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  if (options_.own_connection) arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel(options_.address, grpc::InsecureChannelCredentials(),
                                       arguments);
  stub_ = v1::FanoutService::NewStub(channel_);
  acknowledging_thread_ = std::thread([this] { send_acknowledgements(); });
  thread_ = std::thread([this] { run(); });
}

FanoutClient::~FanoutClient() { stop(); }

void FanoutClient::pause() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void FanoutClient::resume() {
  std::lock_guard lock(mutex_);
  paused_ = false;
  changed_.notify_all();
}

void FanoutClient::restart() {
  std::lock_guard lock(mutex_);
  if (context_) context_->TryCancel();
}

void FanoutClient::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    if (context_) context_->TryCancel();
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(acknowledgements_mutex_);
    acknowledgements_done_ = true;
    acknowledgements_queued_.notify_all();
  }
  if (acknowledging_thread_.joinable()) acknowledging_thread_.join();
}

grpc::Status FanoutClient::last_status() const {
  std::lock_guard lock(mutex_);
  return last_status_;
}

std::vector<int32_t> FanoutClient::assignment() const {
  std::lock_guard lock(mutex_);
  return assignment_;
}

void FanoutClient::wait_while_paused() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !paused_ || stopping_; });
}

void FanoutClient::run() {
  auto backoff = options_.reconnect_backoff;
  while (true) {
    const auto status = run_stream();
    std::unique_lock lock(mutex_);
    last_status_ = status;
    if (stopping_) return;
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        status.error_code() == grpc::StatusCode::NOT_FOUND) {
      spdlog::error("fanout client: subscription refused: {}", status.error_message());
      return;
    }
    // A new stream after a pause, so a proxy on its way up is not hammered.
    changed_.wait_for(lock, backoff, [&] { return stopping_; });
    if (stopping_) return;
    backoff = std::min(backoff * 2, options_.max_reconnect_backoff);
  }
}

grpc::Status FanoutClient::run_stream() {
  grpc::ClientContext context;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return grpc::Status::CANCELLED;
    context_ = &context;
  }
  SubscribeCall call(channel_, context, options_.request);
  streams_opened_.fetch_add(1);
  std::string session;
  grpc::ByteBuffer message;
  SubscribeEventRead event;  // read into again: its records keep their allocations
  using Kind = SubscribeEventRead::Kind;
  while (call.read(message)) {
    if (!read_subscribe_event(message, event)) {
      context.TryCancel();
      call.finish();
      std::lock_guard lock(mutex_);
      context_ = nullptr;
      return {grpc::StatusCode::INTERNAL, "the proxy sent a message that is not a SubscribeEvent"};
    }
    wait_while_paused();
    if (event.kind == Kind::kStarted) {
      session = event.session_id;
      std::lock_guard lock(mutex_);
      assignment_ = event.assignment;
    } else if (event.kind == Kind::kAssignment) {
      std::lock_guard lock(mutex_);
      assignment_ = event.assignment;
    } else if (event.kind == Kind::kDeliveries) {
      received_.fetch_add(event.records.size());
      on_records_(event.records);
      wait_while_paused();
      acknowledge(session, event.records);
    }
  }
  const auto status = call.finish();
  std::lock_guard lock(mutex_);
  context_ = nullptr;
  return status;
}

void FanoutClient::acknowledge(const std::string& session,
                               const std::vector<DeliveredRecord>& records) {
  std::lock_guard lock(acknowledgements_mutex_);
  if (acknowledgements_.empty() || acknowledgements_.back().session != session) {
    acknowledgements_.push_back({session, {}});
    acknowledgements_.back().request.set_session_id(session);
  }
  add_ranges(records, acknowledgements_.back().request);
  acknowledgements_queued_.notify_one();
}

void FanoutClient::send_acknowledgements() {
  while (true) {
    std::vector<PendingAcknowledgements> pending;
    {
      std::unique_lock lock(acknowledgements_mutex_);
      acknowledgements_queued_.wait(
          lock, [&] { return !acknowledgements_.empty() || acknowledgements_done_; });
      if (acknowledgements_.empty()) return;  // done, and nothing left to send
      pending.swap(acknowledgements_);
    }
    for (const auto& batch : pending) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::AcknowledgeResponse response;
      const auto status = stub_->Acknowledge(&context, batch.request, &response);
      if (status.ok()) {
        acknowledged_.fetch_add(response.accepted());
      } else {
        // The session ended: the proxy pushes these again on the next stream.
        spdlog::debug("fanout client: acknowledgement refused: {}", status.error_message());
      }
    }
  }
}

}  // namespace whippet::fanout
