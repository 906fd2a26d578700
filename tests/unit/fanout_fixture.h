#pragma once

// A fan-out proxy on the embedded cluster, served in-process on a free
// loopback port, and subscribers that collect what they receive: FanoutClient
// (acknowledges every batch) or RawSubscriber (a bare stream that
// acknowledges only what the test tells it to).

#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "embedded_consumer_fixture.h"
#include "fanout_client.h"
#include "fanout_server.h"
#include "whippet/admin.h"
#include "whippet/producer.h"

namespace whippet {

using FanoutTestClock = std::chrono::steady_clock;

// Polls `done` every `step` until it holds or `timeout` passed; for state
// only visible through snapshots (everything else has a condition to wait on).
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto until = FanoutTestClock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (FanoutTestClock::now() >= until) return false;
    std::this_thread::sleep_for(step);
  }
}

inline std::string status_text(const grpc::Status& status) {
  return std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
}

// What one subscriber received: every (partition, offset) with how often.
class ReceivedLog {
 public:
  void add(const std::vector<fanout::DeliveredRecord>& records) {
    std::lock_guard lock(mutex_);
    for (const auto& delivered : records) {
      if (++counts_[{delivered.record.partition, delivered.record.offset}] == 1) {
        arrivals_.push_back(FanoutTestClock::now());
      }
      values_.push_back(delivered.record.value.value_or(""));
      max_attempt_ = std::max(max_attempt_, delivered.attempt);
    }
    changed_.notify_all();
  }
  // True once `count` distinct records arrived within the timeout.
  bool wait_distinct(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return counts_.size() >= count; });
  }
  std::size_t distinct() {
    std::lock_guard lock(mutex_);
    return counts_.size();
  }
  std::size_t total() {
    std::lock_guard lock(mutex_);
    std::size_t sum = 0;
    for (const auto& [position, count] : counts_) sum += count;
    return sum;
  }
  std::vector<std::string> values() {
    std::lock_guard lock(mutex_);
    return values_;
  }
  std::uint32_t max_attempt() {
    std::lock_guard lock(mutex_);
    return max_attempt_;
  }
  bool has(int32_t partition, int64_t offset) {
    std::lock_guard lock(mutex_);
    return counts_.contains({partition, offset});
  }
  // When the n-th distinct record (1-based) arrived.
  std::optional<FanoutTestClock::time_point> arrival(std::size_t n) {
    std::lock_guard lock(mutex_);
    if (n == 0 || n > arrivals_.size()) return std::nullopt;
    return arrivals_[n - 1];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::pair<int32_t, int64_t>, int> counts_;
  std::vector<FanoutTestClock::time_point> arrivals_;
  std::vector<std::string> values_;
  std::uint32_t max_attempt_ = 0;
};

// One Subscribe stream read on its own thread, acknowledging nothing by
// itself: what the proxy sees of a subscriber that receives records and
// answers (or not) as the test decides.
class RawSubscriber {
 public:
  struct Delivery {
    int32_t partition = 0;
    int64_t offset = 0;
    std::uint32_t attempt = 0;
    std::string value;
    FanoutTestClock::time_point at;
  };

  RawSubscriber(v1::FanoutService::Stub& stub, const v1::SubscribeRequest& request,
                std::chrono::milliseconds deadline = std::chrono::seconds(90)) {
    context_.set_deadline(std::chrono::system_clock::now() + deadline);
    reader_ = stub.Subscribe(&context_, request);
    thread_ = std::thread([this] { run(); });
  }
  ~RawSubscriber() {
    context_.TryCancel();
    resume_reading();
    thread_.join();
  }
  RawSubscriber(const RawSubscriber&) = delete;
  RawSubscriber& operator=(const RawSubscriber&) = delete;

  // Ends the stream from the client's side, as a crashed subscriber would.
  void cancel() { context_.TryCancel(); }
  // Stops reading the stream (after the message being read), as a
  // subscriber too busy to read would: the proxy's writes then block.
  void pause_reading() {
    std::lock_guard lock(mutex_);
    paused_ = true;
  }
  // Stops reading once the next deliveries were read.
  void pause_reading_after_deliveries() {
    std::lock_guard lock(mutex_);
    pause_after_deliveries_ = true;
  }
  void resume_reading() {
    std::lock_guard lock(mutex_);
    paused_ = false;
    changed_.notify_all();
  }

  // The session id of SessionStarted, once it came within the timeout.
  std::optional<std::string> wait_started(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return session_.has_value() || status_.has_value(); });
    return session_;
  }
  std::optional<grpc::Status> wait_finished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return status_.has_value(); });
    return status_;
  }
  // True once `done(deliveries so far)` holds within the timeout.
  bool wait_for(const std::function<bool(const std::vector<Delivery>&)>& done,
                std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(deliveries_); });
  }
  bool wait_deliveries(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_for([&](const auto& all) { return all.size() >= count; }, timeout);
  }
  std::vector<Delivery> deliveries() {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }
  std::vector<int32_t> assignment() {
    std::lock_guard lock(mutex_);
    return assignment_;
  }

 private:
  void run() {
    v1::SubscribeEvent event;
    while (reader_->Read(&event)) {
      std::unique_lock lock(mutex_);
      if (event.has_started()) {
        session_ = event.started().session_id();
        assignment_.assign(event.started().assignment().partitions().begin(),
                           event.started().assignment().partitions().end());
      } else if (event.has_assignment()) {
        assignment_.assign(event.assignment().partitions().begin(),
                           event.assignment().partitions().end());
      } else if (event.has_deliveries()) {
        for (const auto& delivery : event.deliveries().deliveries()) {
          deliveries_.push_back({delivery.record().partition(), delivery.record().offset(),
                                 delivery.attempt(), delivery.record().value(),
                                 FanoutTestClock::now()});
        }
        if (pause_after_deliveries_) {
          pause_after_deliveries_ = false;
          paused_ = true;
        }
      }
      changed_.notify_all();
      changed_.wait(lock, [&] { return !paused_; });
    }
    auto status = reader_->Finish();
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
    changed_.notify_all();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeEvent>> reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::string> session_;
  std::vector<int32_t> assignment_;
  std::vector<Delivery> deliveries_;
  std::optional<grpc::Status> status_;
  bool paused_ = false;
  bool pause_after_deliveries_ = false;
  std::thread thread_;
};

class FanoutFixture : public EmbeddedConsumerFixture {
 protected:
  void SetUp() override {
    EmbeddedConsumerFixture::SetUp();
    start_proxy(proxy_options());
  }

  // What SetUp starts the proxy with; fixtures override it for other limits.
  virtual fanout::FanoutOptions proxy_options() const { return default_options(); }

  void start_proxy(fanout::FanoutOptions options = default_options()) {
    options.cluster = cluster_options_;
    // For investigating a failure: librdkafka's debug contexts for the
    // proxy's readers (seen with WHIPPET_LOG_LEVEL=debug).
    if (const char* debug = std::getenv("WHIPPET_FANOUT_TEST_RDKAFKA_DEBUG")) {
      options.cluster.librdkafka_properties["debug"] = debug;
      spdlog::set_level(spdlog::level::debug);
    }
    group_prefix_ = testing::unique_name("fanout");
    options.group_prefix = group_prefix_;
    proxy_.reset();  // a previous instance leaves before the next one starts
    proxy_ = std::make_unique<fanout::FanoutServer>(std::move(options));
    address_ = "127.0.0.1:" + std::to_string(proxy_->port());
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    stub_ = v1::FanoutService::NewStub(channel_);
  }

  static fanout::FanoutOptions default_options() {
    fanout::FanoutOptions options;
    options.listen_address = "127.0.0.1:0";
    options.commit_interval = std::chrono::milliseconds(100);
    options.session_timeout = std::chrono::milliseconds(6000);
    options.metrics_http = metrics::MetricsHttpServerOptions{};
    return options;
  }

  v1::SubscribeRequest request(const std::string& subscriber) const {
    v1::SubscribeRequest request;
    request.set_topic(topic_);
    request.set_subscriber(subscriber);
    return request;
  }

  std::unique_ptr<fanout::FanoutClient> subscribe(const v1::SubscribeRequest& request,
                                                  ReceivedLog& log) {
    fanout::FanoutClientOptions options;
    options.address = address_;
    options.request = request;
    return std::make_unique<fanout::FanoutClient>(
        options, [&log](const std::vector<fanout::DeliveredRecord>& records) { log.add(records); });
  }

  std::unique_ptr<RawSubscriber> subscribe_raw(const v1::SubscribeRequest& request) {
    return std::make_unique<RawSubscriber>(*stub_, request);
  }

  // The status of a Subscribe call that is expected to be refused at once;
  // a stream that starts instead is cancelled after a while.
  grpc::Status subscribe_status(const v1::SubscribeRequest& request) {
    RawSubscriber stream(*stub_, request, std::chrono::seconds(20));
    const auto status = stream.wait_finished(std::chrono::seconds(20));
    return status.value_or(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no answer"));
  }

  grpc::Status acknowledge(const std::string& session,
                           const std::map<int32_t, std::vector<int64_t>>& offsets,
                           v1::AcknowledgeResponse& response) {
    v1::AcknowledgeRequest request;
    request.set_session_id(session);
    for (const auto& [partition, list] : offsets) {
      auto* entry = request.add_acknowledged();
      entry->set_partition(partition);
      for (const auto offset : list) entry->add_offsets(offset);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Acknowledge(&context, request, &response);
  }

  // Acknowledges these deliveries (each once) and returns how many the proxy accepted.
  std::uint32_t acknowledge(const std::string& session,
                            const std::vector<RawSubscriber::Delivery>& deliveries) {
    std::map<int32_t, std::set<int64_t>> unique;
    for (const auto& delivery : deliveries) unique[delivery.partition].insert(delivery.offset);
    std::map<int32_t, std::vector<int64_t>> offsets;
    for (const auto& [partition, set] : unique) offsets[partition].assign(set.begin(), set.end());
    v1::AcknowledgeResponse response;
    const auto status = acknowledge(session, offsets, response);
    EXPECT_TRUE(status.ok()) << status_text(status);
    return response.accepted();
  }

  nlohmann::json snapshot() const { return nlohmann::json::parse(proxy_->snapshot_json()); }

  // The snapshot of the subscriber's session on this proxy, or null.
  nlohmann::json subscriber_snapshot(const std::string& subscriber) const {
    const auto state = snapshot();  // not in the range-for: operator[] would dangle
    for (const auto& session : state["subscribers"]) {
      if (session["subscriber"] == subscriber) return session;
    }
    return nullptr;
  }

  // Waits until the topic's partitions are assigned to the proxy and the
  // subscriber has a cursor on each (so records produced from now on reach it).
  bool wait_positioned(const std::string& subscriber,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return eventually(
        [&] {
          const auto session = subscriber_snapshot(subscriber);
          return !session.is_null() && session["partitions"].size() == kPartitions;
        },
        timeout);
  }

  // Where each partition's next record will go.
  std::map<int32_t, int64_t> end_offsets() const {
    return testing::end_offsets(cluster_options_, topic_);
  }

  // The consumer group holding a subscriber's acknowledged positions.
  std::string subscriber_group(const std::string& subscriber) const {
    return group_prefix_ + ":" + topic_ + ":" + subscriber;
  }

  // `count` records with values "0".."count-1", keys spread over the partitions.
  void produce(int count, int first = 0, Headers headers = {}) {
    std::vector<ProducerRecord> records;
    for (int i = first; i < first + count; ++i) {
      ProducerRecord record;
      record.topic = topic_;
      record.key = "key-" + std::to_string(i % 16);
      record.value = std::to_string(i);
      record.headers = headers;
      records.push_back(std::move(record));
    }
    produce_records(std::move(records));
  }

  void produce_records(std::vector<ProducerRecord> records) {
    ProducerOptions options;
    options.cluster = cluster_options_;
    Producer producer(options);
    for (auto& record : records) {
      if (record.topic.empty()) record.topic = topic_;
      producer.send(std::move(record));
    }
    producer.flush(std::chrono::seconds(30));
  }

  std::unique_ptr<fanout::FanoutServer> proxy_;
  std::string group_prefix_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FanoutService::Stub> stub_;
};

}  // namespace whippet
