// What an operator sees: a consumer's metrics scraped over HTTP while
// records flow and while a handler is stuck, checked by promtool.

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <httplib.h>

#include <gtest/gtest.h>

#include "prometheus_test_helpers.h"
#include "support/test_cluster.h"
#include "whippet/consumer.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"
#include "whippet/prometheus.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

// The value of the sample whose line starts with `series` ("name{labels}").
std::optional<double> sample(const std::string& page, const std::string& series) {
  for (const auto& line : testing::lines_of(page)) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

TEST(ObservabilityScrapeTest, ScrapedMetricsMoveAndShowTheStuckHandler) {
  EmbeddedCluster cluster(EmbeddedCluster::Options{});
  ClusterOptions cluster_options;
  cluster_options.brokers = cluster.bootstrap_servers();
  const auto topic = testing::unique_name("scraped");
  cluster.create_topic(topic, 2);
  testing::produce_numbered(cluster_options, topic, 10, 2);  // offsets 0..4 in each

  auto sink = std::make_shared<metrics::PrometheusSink>();
  ConsumerOptions options;
  options.cluster = cluster_options;
  options.group_id = testing::unique_name("orders");
  options.handler_name = "ship";
  options.topics = {topic};
  options.initial_offset = InitialOffset::kEarliest;
  options.commit_interval = 100ms;
  options.session_timeout = 6000ms;
  options.metrics = metrics::MetricsReporter({sink});
  std::promise<void> stuck;
  std::promise<void> release;
  auto released = release.get_future().share();
  testing::HandledRecords handled;
  Consumer consumer(options, [&](const Record& record) {
    if (record.partition == 0 && record.offset == 2) {
      stuck.set_value();
      released.wait();
    }
    handled.add(record);
  });
  const auto source = sink->add_snapshot_source([&] { return std::vector{consumer.snapshot()}; });
  metrics::MetricsHttpServer server(sink, {});
  httplib::Client client("127.0.0.1", server.port());
  auto scrape = [&] {
    auto response = client.Get("/metrics");
    EXPECT_TRUE(response && response->status == 200);
    return response ? response->body : std::string();
  };
  const std::string labels =
      "{topic=\"" + topic + "\",group=\"" + options.group_id + "\",handler=\"ship\"";
  const std::string partition_zero = labels + ",partition=\"0\"}";

  ASSERT_EQ(stuck.get_future().wait_for(20s), std::future_status::ready);
  ASSERT_TRUE(handled.wait_for_count(7, 20s));  // partition 1's five, partition 0's first two
  const auto first = scrape();
  EXPECT_EQ(sample(first, "whippet_records_handled_total" + labels + "}"), 7.0) << first;
  EXPECT_EQ(sample(first, "whippet_consumer_longest_running_handler_offset" + partition_zero), 2.0)
      << first;
  const auto first_seconds =
      sample(first, "whippet_consumer_longest_running_handler_seconds" + partition_zero);
  ASSERT_TRUE(first_seconds.has_value()) << first;
  EXPECT_LT(*first_seconds, 1.0) << "seen within a second of the handler starting";

  // Records keep flowing on partition 1 while partition 0 is stuck.
  {
    ProducerOptions producer_options;
    producer_options.cluster = cluster_options;
    Producer producer(producer_options);
    for (int i = 0; i < 3; ++i) {
      ProducerRecord record;
      record.topic = topic;
      record.partition = 1;
      record.value = "more";
      producer.send(std::move(record)).get();
    }
  }
  ASSERT_TRUE(handled.wait_for_count(10, 20s));
  std::this_thread::sleep_for(1200ms);
  const auto second = scrape();
  EXPECT_EQ(sample(second, "whippet_records_handled_total" + labels + "}"), 10.0) << second;
  const auto second_seconds =
      sample(second, "whippet_consumer_longest_running_handler_seconds" + partition_zero);
  ASSERT_TRUE(second_seconds.has_value()) << second;
  EXPECT_GE(*second_seconds, *first_seconds + 1.0) << "the stuck handler's age must grow";
  EXPECT_EQ(sample(second, "whippet_consumer_longest_running_handler_offset" + partition_zero), 2.0);
  EXPECT_GT(*sample(second, "whippet_consumer_lag_records" + partition_zero), 0.0);

  const auto verdict = testing::run_with_input(std::string(testing::kPromtool) + " check metrics",
                                               second);
  EXPECT_EQ(verdict.exit_code, 0) << verdict.output << "\n" << second;

  release.set_value();
  ASSERT_TRUE(handled.wait_for_count(13, 20s));
  const auto third = scrape();
  EXPECT_EQ(sample(third, "whippet_records_handled_total" + labels + "}"), 13.0) << third;
  EXPECT_FALSE(sample(third, "whippet_consumer_longest_running_handler_offset" + partition_zero))
      << "nothing runs any more on partition 0";
  sink->remove_snapshot_source(source);
  consumer.close(5s);
}

}  // namespace
}  // namespace whippet
