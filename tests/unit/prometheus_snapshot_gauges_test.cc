// Consumer gauges come from runtime snapshots, read at render time.

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prometheus_test_helpers.h"
#include "whippet/prometheus.h"

namespace whippet::metrics {
namespace {

using whippet::testing::count_lines_starting_with;
using whippet::testing::has_line;

ConsumerSnapshot billing_consumer() {
  ConsumerSnapshot consumer;
  consumer.group = "billing";
  consumer.handler = "charge";
  consumer.topics = {"orders"};
  PartitionSnapshot busy;
  busy.topic = "orders";
  busy.partition = 0;
  busy.queued = 12;
  busy.in_flight = 1;
  busy.in_progress_offset = 4711;
  busy.in_progress_seconds = 2.5;
  busy.paused_seconds = 0.75;
  busy.lag = 40;
  busy.lag_seconds = 3.25;
  PartitionSnapshot idle;
  idle.topic = "orders";
  idle.partition = 1;
  consumer.partitions = {busy, idle};
  return consumer;
}

std::string series(const std::string& name, int partition) {
  return name + R"({topic="orders",group="billing",handler="charge",partition=")" +
         std::to_string(partition) + "\"}";
}

TEST(PrometheusSnapshotGaugesTest, EveryPartitionGaugeComesFromTheSnapshot) {
  PrometheusSink sink;
  sink.add_snapshot_source([] { return std::vector{billing_consumer()}; });
  const auto page = sink.render();

  EXPECT_TRUE(has_line(page, "# TYPE whippet_consumer_queued_records gauge"));
  EXPECT_TRUE(has_line(page, series("whippet_consumer_queued_records", 0) + " 12"));
  EXPECT_TRUE(has_line(page, series("whippet_consumer_queued_records", 1) + " 0"));
  EXPECT_TRUE(has_line(page, series("whippet_consumer_in_flight_records", 0) + " 1"));
  EXPECT_TRUE(
      has_line(page, series("whippet_consumer_longest_running_handler_seconds", 0) + " 2.5"));
  EXPECT_TRUE(
      has_line(page, series("whippet_consumer_longest_running_handler_seconds", 1) + " 0"));
  EXPECT_TRUE(
      has_line(page, series("whippet_consumer_longest_running_handler_offset", 0) + " 4711"));
  // No record in progress, no offset to show.
  EXPECT_EQ(count_lines_starting_with(page, "whippet_consumer_longest_running_handler_offset{"),
            1u);
  EXPECT_TRUE(has_line(page, series("whippet_consumer_lag_records", 0) + " 40"));
  EXPECT_TRUE(has_line(page, series("whippet_consumer_lag_seconds", 0) + " 3.25"));
  EXPECT_TRUE(has_line(page, series("whippet_consumer_paused", 0) + " 1"));
  EXPECT_TRUE(has_line(page, series("whippet_consumer_paused", 1) + " 0"));
}

TEST(PrometheusSnapshotGaugesTest, SourcesAreReadOnEveryRender) {
  PrometheusSink sink;
  std::size_t queued = 1;
  sink.add_snapshot_source([&queued] {
    auto consumer = billing_consumer();
    consumer.partitions[0].queued = queued;
    return std::vector{consumer};
  });
  EXPECT_TRUE(has_line(sink.render(), series("whippet_consumer_queued_records", 0) + " 1"));
  queued = 7;
  EXPECT_TRUE(has_line(sink.render(), series("whippet_consumer_queued_records", 0) + " 7"));
}

TEST(PrometheusSnapshotGaugesTest, AFailingSourceIsSkippedAndADuplicatePartitionWrittenOnce) {
  PrometheusSink sink;
  sink.add_snapshot_source([]() -> std::vector<ConsumerSnapshot> {
    throw std::runtime_error("consumer gone");
  });
  // The same partition from two members, as during a rebalance.
  sink.add_snapshot_source([] { return std::vector{billing_consumer(), billing_consumer()}; });
  const auto page = sink.render();
  EXPECT_EQ(count_lines_starting_with(page, "whippet_consumer_queued_records{"), 2u);
  EXPECT_EQ(count_lines_starting_with(page, "# TYPE whippet_consumer_queued_records "), 1u);
}

TEST(PrometheusSnapshotGaugesTest, ARemovedSourceIsNotCalledAgain) {
  PrometheusSink sink;
  int calls = 0;
  const auto id = sink.add_snapshot_source([&calls] {
    ++calls;
    return std::vector{billing_consumer()};
  });
  EXPECT_NE(sink.render(), "");
  sink.remove_snapshot_source(id);
  sink.remove_snapshot_source(id + 100);  // unknown: ignored
  EXPECT_EQ(sink.render(), "");
  EXPECT_EQ(calls, 1);
}

TEST(PrometheusSnapshotGaugesTest, NoSnapshotsNoGauges) {
  PrometheusSink sink;
  sink.add_snapshot_source([] { return std::vector<ConsumerSnapshot>{}; });
  EXPECT_EQ(sink.render(), "");
}

}  // namespace
}  // namespace whippet::metrics
