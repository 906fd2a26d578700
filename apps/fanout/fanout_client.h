#pragma once

// A C++ subscriber of the fan-out proxy: one stream on its own thread,
// records handed to a callback in the batches they arrive in and
// acknowledged once it returns, and a new stream after a broken one (the
// proxy restarted, or moved) with a growing pause between attempts.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "whippet/record.h"
#include "whippet/v1/fanout.grpc.pb.h"

namespace whippet::fanout {

struct FanoutClientOptions {
  std::string address;  // host:port of a proxy instance
  v1::SubscribeRequest request;
  std::chrono::milliseconds reconnect_backoff{200};
  std::chrono::milliseconds max_reconnect_backoff{2000};
  // A connection of this client's own, instead of the one gRPC shares
  // between all channels of a process to the same address (and the same
  // arguments): what subscribers in separate processes have. Several
  // clients in one process (a benchmark) otherwise multiplex their streams
  // over one connection, read by whichever of their threads polls it.
  bool own_connection = false;
};

struct DeliveredRecord {
  Record record;
  std::uint32_t attempt = 1;
};

class FanoutClient {
 public:
  using Callback = std::function<void(const std::vector<DeliveredRecord>&)>;

  FanoutClient(FanoutClientOptions options, Callback on_records);
  ~FanoutClient();  // stop()
  FanoutClient(const FanoutClient&) = delete;
  FanoutClient& operator=(const FanoutClient&) = delete;

  // While paused the client neither reads its stream nor acknowledges: to
  // the proxy it is a subscriber that stopped.
  void pause();
  void resume();
  // Ends the current stream (as a crashed subscriber would) and opens a new one.
  void restart();
  void stop();

  std::uint64_t received() const { return received_.load(); }
  std::uint64_t acknowledged() const { return acknowledged_.load(); }
  std::uint64_t streams_opened() const { return streams_opened_.load(); }
  // The status that ended the last stream, for tests and logs.
  grpc::Status last_status() const;
  std::vector<int32_t> assignment() const;

 private:
  void run();
  grpc::Status run_stream();
  // Queues the acknowledgement of `records` for the acknowledging thread, so
  // that reading the stream does not wait for a round trip per batch.
  void acknowledge(const std::string& session, const std::vector<DeliveredRecord>& records);
  void send_acknowledgements();
  void wait_while_paused();

  FanoutClientOptions options_;
  Callback on_records_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FanoutService::Stub> stub_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool paused_ = false;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // of the stream open now
  grpc::Status last_status_;
  std::vector<int32_t> assignment_;

  struct PendingAcknowledgements {
    std::string session;
    v1::AcknowledgeRequest request;
  };
  std::mutex acknowledgements_mutex_;
  std::condition_variable acknowledgements_queued_;
  std::vector<PendingAcknowledgements> acknowledgements_;
  bool acknowledgements_done_ = false;
  std::thread acknowledging_thread_;

  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> acknowledged_{0};
  std::atomic<std::uint64_t> streams_opened_{0};
  std::thread thread_;
};

}  // namespace whippet::fanout
