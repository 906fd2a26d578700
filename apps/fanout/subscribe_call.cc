#include "subscribe_call.h"

#include <string>

#include "whippet/v1/fanout.grpc.pb.h"

namespace whippet::fanout {

namespace {

std::string subscribe_method() {
  return std::string("/") + v1::FanoutService::service_full_name() + "/Subscribe";
}

}  // namespace

SubscribeCall::SubscribeCall(const std::shared_ptr<grpc::Channel>& channel,
                             grpc::ClientContext& context, const v1::SubscribeRequest& request)
    : stub_(channel), call_(stub_.PrepareCall(&context, subscribe_method(), &queue_)) {
  // A server-streaming call: one request, then the client's side is done.
  call_->StartCall(this);
  open_ = completed();
  if (open_) {
    call_->Write(request, this);
    open_ = completed();
  }
  if (open_) {
    call_->WritesDone(this);
    open_ = completed();
  }
}

SubscribeCall::~SubscribeCall() {
  queue_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue_.Next(&tag, &ok)) {
  }
}

bool SubscribeCall::read(grpc::ByteBuffer& event) {
  if (!open_) return false;
  call_->Read(&event, this);
  open_ = completed();
  return open_;
}

grpc::Status SubscribeCall::finish() {
  grpc::Status status;
  call_->Finish(&status, this);
  completed();
  open_ = false;
  return status;
}

bool SubscribeCall::completed() {
  void* tag = nullptr;
  bool ok = false;
  return queue_.Next(&tag, &ok) && ok;
}

}  // namespace whippet::fanout
