#pragma once

// A fan-out proxy on the embedded cluster, served in-process on a free
// loopback port, and subscribers that collect what they receive.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "embedded_consumer_fixture.h"
#include "fanout_client.h"
#include "fanout_server.h"
#include "whippet/producer.h"

namespace whippet {

// What one subscriber received: every (partition, offset) with how often.
class ReceivedLog {
 public:
  void add(const std::vector<fanout::DeliveredRecord>& records) {
    std::lock_guard lock(mutex_);
    for (const auto& delivered : records) {
      ++counts_[{delivered.record.partition, delivered.record.offset}];
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

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::pair<int32_t, int64_t>, int> counts_;
  std::vector<std::string> values_;
  std::uint32_t max_attempt_ = 0;
};

class FanoutFixture : public EmbeddedConsumerFixture {
 protected:
  void SetUp() override {
    EmbeddedConsumerFixture::SetUp();
    start_proxy();
  }

  void start_proxy(fanout::FanoutOptions options = default_options()) {
    options.cluster = cluster_options_;
    options.group_prefix = testing::unique_name("fanout");
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

  // `count` records with values "0".."count-1", keys spread over the partitions.
  void produce(int count, int first = 0, Headers headers = {}) {
    ProducerOptions options;
    options.cluster = cluster_options_;
    Producer producer(options);
    for (int i = first; i < first + count; ++i) {
      ProducerRecord record;
      record.topic = topic_;
      record.key = "key-" + std::to_string(i % 16);
      record.value = std::to_string(i);
      record.headers = headers;
      producer.send(std::move(record));
    }
    producer.flush(std::chrono::seconds(30));
  }

  std::unique_ptr<fanout::FanoutServer> proxy_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FanoutService::Stub> stub_;
};

}  // namespace whippet
