#pragma once

// One Subscribe stream of the C++ client, read as raw messages for
// read_subscribe_event (subscribe_event_reader.h). The generated stub can
// only parse whippet.v1.SubscribeEvent messages, so the call goes through
// gRPC's generic stub, and its operations are waited for one at a time on a
// completion queue of its own. Cancelling the ClientContext (from any
// thread) ends a read in progress.

#include <memory>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {

class SubscribeCall {
 public:
  SubscribeCall(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& context,
                const v1::SubscribeRequest& request);
  ~SubscribeCall();
  SubscribeCall(const SubscribeCall&) = delete;
  SubscribeCall& operator=(const SubscribeCall&) = delete;

  // False once the stream ended: then finish() says how.
  bool read(grpc::ByteBuffer& event);
  grpc::Status finish();

 private:
  using Stub = grpc::TemplatedGenericStub<v1::SubscribeRequest, grpc::ByteBuffer>;
  // Waits for the operation started last; false when it failed.
  bool completed();

  grpc::CompletionQueue queue_;
  Stub stub_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::SubscribeRequest, grpc::ByteBuffer>> call_;
  bool open_ = false;
};

}  // namespace whippet::fanout
