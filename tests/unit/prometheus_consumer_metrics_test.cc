// A real consumer on the embedded cluster reporting into a PrometheusSink:
// the events the consumer emits and its snapshot gauges end up on the page.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prometheus_test_helpers.h"
#include "support/test_cluster.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"
#include "whippet/prometheus.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using testing::count_lines_starting_with;
using testing::has_line;

// Reported to after the PrometheusSink, so that once it has seen an event
// the page already counts it: the test waits on this instead of polling.
class EventWaiter final : public metrics::MetricsSink {
 public:
  void on_event(const metrics::Event& event) noexcept override {
    std::lock_guard lock(mutex_);
    if (std::holds_alternative<metrics::RecordHandled>(event)) ++handled_;
    if (std::holds_alternative<metrics::CommitCompleted>(event)) ++commits_;
    changed_.notify_all();
  }
  bool wait_for(std::size_t handled, std::size_t commits, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout,
                             [&] { return handled_ >= handled && commits_ >= commits; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t handled_ = 0;
  std::size_t commits_ = 0;
};

TEST(PrometheusConsumerMetricsTest, HandledRecordsCommitsAndPartitionGaugesAppear) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  ClusterOptions cluster_options;
  cluster_options.brokers = cluster.bootstrap_servers();
  const auto topic = testing::unique_name("metered");
  cluster.create_topic(topic, 2);
  testing::produce_numbered(cluster_options, topic, 10, 2);

  auto sink = std::make_shared<metrics::PrometheusSink>();
  auto waiter = std::make_shared<EventWaiter>();
  ConsumerOptions options;
  options.cluster = cluster_options;
  options.group_id = testing::unique_name("billing");
  options.handler_name = "charge";
  options.topics = {topic};
  options.initial_offset = InitialOffset::kEarliest;
  options.commit_interval = 100ms;
  options.session_timeout = 6000ms;
  options.metrics = metrics::MetricsReporter({sink, waiter});
  Consumer consumer(options, [](const Record& /*record*/) {});
  const auto source =
      sink->add_snapshot_source([&consumer] { return std::vector{consumer.snapshot()}; });

  ASSERT_TRUE(waiter->wait_for(10, 1, 30s));
  const auto page = sink->render();
  const auto labels = R"({topic=")" + topic + R"(",group=")" + options.group_id +
                      R"(",handler="charge")";
  EXPECT_TRUE(has_line(page, "whippet_records_handled_total" + labels + "} 10"));
  EXPECT_TRUE(has_line(page, "whippet_handler_duration_seconds_count" + labels + "} 10"));
  EXPECT_NE(page.find("whippet_commit_duration_seconds_count{group=\"" + options.group_id),
            std::string::npos)
      << page;
  // One series per assigned partition, from the consumer's own snapshot.
  EXPECT_EQ(count_lines_starting_with(page, "whippet_consumer_lag_records" + labels), 2u) << page;
  EXPECT_TRUE(has_line(page, "whippet_consumer_paused" + labels + R"(,partition="0"} 0)"));
  // The sink outlives the consumer: its source must go first.
  sink->remove_snapshot_source(source);
  consumer.close(5s);
}

}  // namespace
}  // namespace whippet
