// The text exposition format itself, and promtool's verdict on a page with
// every Whippet metric in it.

#include <unistd.h>

#include <array>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "observability/exposition_writer.h"
#include "prometheus_test_helpers.h"
#include "whippet/prometheus.h"

namespace whippet::observability {
namespace {

using namespace std::chrono_literals;
using whippet::testing::has_line;

using whippet::testing::kPromtool;
using whippet::testing::run_with_input;

TEST(PrometheusExpositionTest, LabelValuesEscapeBackslashQuoteAndLineFeed) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(escape_label_value(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escape_label_value("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(escape_label_value("tab\tstays"), "tab\tstays");
}

TEST(PrometheusExpositionTest, ValuesAreShortestAndSpecialValuesSpelledTheWayPrometheusReadsThem) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(60), "60");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(-1), "-1");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(PrometheusExpositionTest, AFamilyHeaderIsWrittenOnceAndOnlyWithSamples) {
  ExpositionWriter writer;
  writer.begin_family("whippet_empty_total", MetricType::kCounter, "Never reported.");
  writer.begin_family("whippet_things_total", MetricType::kCounter,
                      "Help with a back\\slash and a\nline feed.");
  writer.sample(std::array{Label{"kind", "a"}}, std::uint64_t{1});
  writer.sample(std::array{Label{"kind", "b"}}, std::uint64_t{2});
  writer.begin_family("whippet_level", MetricType::kGauge, "Unlabelled.");
  writer.sample(std::span<const Label>{}, 0.5);
  EXPECT_EQ(writer.text(),
            "# HELP whippet_things_total Help with a back\\\\slash and a\\nline feed.\n"
            "# TYPE whippet_things_total counter\n"
            "whippet_things_total{kind=\"a\"} 1\n"
            "whippet_things_total{kind=\"b\"} 2\n"
            "# HELP whippet_level Unlabelled.\n"
            "# TYPE whippet_level gauge\n"
            "whippet_level 0.5\n");
}

// A page with every family Whippet writes, and label values that need escaping.
std::string every_metric_page() {
  metrics::PrometheusSink sink;
  const metrics::ConsumerLabels labels{"orders", "billing", R"(charge "v2" \ new)"};
  sink.on_event(metrics::RecordHandled{labels, 2ms});
  sink.on_event(metrics::RecordFailed{labels, 70s, "std::runtime_error"});
  sink.on_event(metrics::RetryScheduled{labels, 1});
  sink.on_event(metrics::RecordDeadLettered{labels});
  sink.on_event(metrics::CommitCompleted{"billing", 4ms, false});
  sink.on_event(metrics::DeliveryCompleted{"orders", 3ms, std::nullopt});
  sink.on_event(metrics::DeliveryCompleted{"orders", 1ms, ErrorCode::kUnknownTopic});
  sink.add_snapshot_source([] {
    ConsumerSnapshot consumer;
    consumer.group = "billing";
    consumer.handler = "charge";
    PartitionSnapshot partition;
    partition.topic = "orders";
    partition.partition = 0;
    partition.in_progress_offset = 12;
    partition.in_progress_seconds = 0.5;
    partition.paused_seconds = 1;
    consumer.partitions = {partition};
    return std::vector{consumer};
  });
  return sink.render();
}

TEST(PrometheusExpositionTest, PromtoolAcceptsEveryMetricWithoutLintProblems) {
  if (access(kPromtool, X_OK) != 0) {
    FAIL() << kPromtool << " is missing: run scripts/setup, which installs it";
  }
  const auto page = every_metric_page();
  // Every family is really in the page the tool checks.
  for (const auto* family :
       {"whippet_records_handled_total", "whippet_records_failed_total",
        "whippet_handler_duration_seconds", "whippet_retries_total", "whippet_dead_lettered_total",
        "whippet_commit_duration_seconds", "whippet_commit_failures_total",
        "whippet_producer_delivery_duration_seconds", "whippet_producer_errors_total",
        "whippet_consumer_queued_records", "whippet_consumer_in_flight_records",
        "whippet_consumer_longest_running_handler_seconds",
        "whippet_consumer_longest_running_handler_offset", "whippet_consumer_lag_records",
        "whippet_consumer_lag_seconds", "whippet_consumer_paused"}) {
    EXPECT_NE(page.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_TRUE(has_line(page, R"(whippet_records_handled_total{topic="orders",group="billing",)"
                             R"(handler="charge \"v2\" \\ new"} 1)"));

  const auto outcome = run_with_input(std::string(kPromtool) + " check metrics", page);
  // promtool exits 1 on a parse error and 3 on lint problems, printing them.
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output << "\nfor the page:\n" << page;
  EXPECT_EQ(outcome.output, "") << "for the page:\n" << page;
}

TEST(PrometheusExpositionTest, PromtoolRejectsABrokenPage) {
  if (access(kPromtool, X_OK) != 0) {
    FAIL() << kPromtool << " is missing: run scripts/setup, which installs it";
  }
  // Proves the check above can fail: an unescaped quote breaks the format.
  const auto outcome = run_with_input(
      std::string(kPromtool) + " check metrics",
      "# HELP whippet_x_total X.\n# TYPE whippet_x_total counter\nwhippet_x_total{a=\"\"\"} 1\n");
  EXPECT_NE(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace whippet::observability
