// PrometheusSink: events move the right counters and histograms, labels
// stay bounded, and many threads can report at once.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "prometheus_test_helpers.h"
#include "whippet/prometheus.h"

namespace whippet::metrics {
namespace {

using namespace std::chrono_literals;
using whippet::testing::count_lines_starting_with;
using whippet::testing::has_line;

const ConsumerLabels kLabels{"orders", "billing", "charge"};
constexpr const char* kLabelText = R"(topic="orders",group="billing",handler="charge")";

std::string with_labels(const std::string& name, const std::string& extra = "") {
  return name + "{" + kLabelText + extra + "}";
}

TEST(PrometheusSinkTest, RendersNothingBeforeTheFirstEvent) {
  PrometheusSink sink;
  EXPECT_EQ(sink.render(), "");
}

TEST(PrometheusSinkTest, HandledRecordsMoveTheCounterAndTheDurationHistogram) {
  PrometheusSink sink;
  sink.on_event(RecordHandled{kLabels, 300us});
  sink.on_event(RecordHandled{kLabels, 2s});
  const auto page = sink.render();

  EXPECT_TRUE(has_line(page, "# HELP whippet_records_handled_total Records whose handler "
                             "completed without an error."));
  EXPECT_TRUE(has_line(page, "# TYPE whippet_records_handled_total counter"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_records_handled_total") + " 2"));
  EXPECT_TRUE(has_line(page, "# TYPE whippet_handler_duration_seconds histogram"));
  const auto bucket = [](const std::string& le) {
    return with_labels("whippet_handler_duration_seconds_bucket", ",le=\"" + le + "\"");
  };
  EXPECT_TRUE(has_line(page, bucket("0.0005") + " 1"));
  EXPECT_TRUE(has_line(page, bucket("1") + " 1"));
  EXPECT_TRUE(has_line(page, bucket("2.5") + " 2"));
  EXPECT_TRUE(has_line(page, bucket("60") + " 2"));
  EXPECT_TRUE(has_line(page, bucket("+Inf") + " 2"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_handler_duration_seconds_sum") + " 2.0003"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_handler_duration_seconds_count") + " 2"));
  // 16 bounds from 0.0005 to 60 s, then +Inf.
  EXPECT_EQ(count_lines_starting_with(page, "whippet_handler_duration_seconds_bucket{"), 17u);
  // Families nothing reported stay out of the page.
  EXPECT_EQ(page.find("whippet_records_failed_total"), std::string::npos);
  EXPECT_EQ(page.find("whippet_commit"), std::string::npos);
}

TEST(PrometheusSinkTest, BucketBoundsAreInclusive) {
  PrometheusSink sink;
  sink.on_event(RecordHandled{kLabels, 1ms});
  const auto page = sink.render();
  EXPECT_TRUE(has_line(
      page, with_labels("whippet_handler_duration_seconds_bucket", ",le=\"0.0005\"") + " 0"));
  EXPECT_TRUE(has_line(
      page, with_labels("whippet_handler_duration_seconds_bucket", ",le=\"0.001\"") + " 1"));
}

TEST(PrometheusSinkTest, FailuresAreCountedByErrorTypeAndTimedToo) {
  PrometheusSink sink;
  sink.on_event(RecordFailed{kLabels, 10ms, "std::runtime_error"});
  sink.on_event(RecordFailed{kLabels, 10ms, "std::runtime_error"});
  sink.on_event(RecordFailed{kLabels, 10ms, "whippet::Error"});
  sink.on_event(RecordFailed{kLabels, 10ms, ""});
  const auto page = sink.render();
  EXPECT_TRUE(has_line(page, "# TYPE whippet_records_failed_total counter"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_records_failed_total",
                                         R"(,error_type="std::runtime_error")") + " 2"));
  EXPECT_TRUE(has_line(
      page, with_labels("whippet_records_failed_total", R"(,error_type="whippet::Error")") + " 1"));
  EXPECT_TRUE(has_line(
      page, with_labels("whippet_records_failed_total", R"(,error_type="unknown")") + " 1"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_handler_duration_seconds_count") + " 4"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_records_handled_total") + " 0"));
}

TEST(PrometheusSinkTest, ErrorTypesAreCappedAt32AndTheRestCountAsOther) {
  PrometheusSink sink;
  for (int type = 0; type < 40; ++type) {
    sink.on_event(RecordFailed{kLabels, 1ms, "Error" + std::to_string(type)});
  }
  // A type admitted early stays itself, even in a new label set.
  sink.on_event(RecordFailed{{"payments", "billing", "charge"}, 1ms, "Error0"});
  const auto page = sink.render();
  EXPECT_EQ(count_lines_starting_with(page, "whippet_records_failed_total{"), 32u + 1u + 1u);
  EXPECT_TRUE(has_line(page, with_labels("whippet_records_failed_total", R"(,error_type="other")") +
                                 " 8"));
  EXPECT_TRUE(has_line(
      page, with_labels("whippet_records_failed_total", R"(,error_type="Error31")") + " 1"));
  EXPECT_TRUE(has_line(page, R"(whippet_records_failed_total{topic="payments",group="billing",)"
                             R"(handler="charge",error_type="Error0"} 1)"));
}

TEST(PrometheusSinkTest, RetriesAreCountedByAttemptWithHighAttemptsShared) {
  PrometheusSink sink;
  for (const int attempt : {1, 1, 2, 10, 15}) sink.on_event(RetryScheduled{kLabels, attempt});
  const auto page = sink.render();
  EXPECT_TRUE(has_line(page, "# TYPE whippet_retries_total counter"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_retries_total", R"(,attempt="1")") + " 2"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_retries_total", R"(,attempt="2")") + " 1"));
  EXPECT_TRUE(has_line(page, with_labels("whippet_retries_total", R"(,attempt="10+")") + " 2"));
  EXPECT_EQ(count_lines_starting_with(page, "whippet_retries_total{"), 3u);
}

TEST(PrometheusSinkTest, DeadLetteredRecordsAreCounted) {
  PrometheusSink sink;
  sink.on_event(RecordDeadLettered{kLabels});
  EXPECT_TRUE(has_line(sink.render(), with_labels("whippet_dead_lettered_total") + " 1"));
}

TEST(PrometheusSinkTest, CommitsAreTimedAndFailuresCountedPerGroup) {
  PrometheusSink sink;
  sink.on_event(CommitCompleted{"billing", 5ms, true});
  sink.on_event(CommitCompleted{"billing", 20ms, false});
  sink.on_event(CommitCompleted{"audit", 1ms, true});
  const auto page = sink.render();
  EXPECT_TRUE(has_line(page, "# TYPE whippet_commit_duration_seconds histogram"));
  EXPECT_TRUE(
      has_line(page, R"(whippet_commit_duration_seconds_bucket{group="billing",le="0.005"} 1)"));
  EXPECT_TRUE(
      has_line(page, R"(whippet_commit_duration_seconds_bucket{group="billing",le="0.025"} 2)"));
  EXPECT_TRUE(has_line(page, R"(whippet_commit_duration_seconds_sum{group="billing"} 0.025)"));
  EXPECT_TRUE(has_line(page, R"(whippet_commit_duration_seconds_count{group="billing"} 2)"));
  EXPECT_TRUE(has_line(page, R"(whippet_commit_duration_seconds_count{group="audit"} 1)"));
  EXPECT_TRUE(has_line(page, R"(whippet_commit_failures_total{group="billing"} 1)"));
  EXPECT_TRUE(has_line(page, R"(whippet_commit_failures_total{group="audit"} 0)"));
}

TEST(PrometheusSinkTest, DeliveriesAreTimedAndErrorsCountedByCode) {
  PrometheusSink sink;
  sink.on_event(DeliveryCompleted{"orders", 3ms, std::nullopt});
  sink.on_event(DeliveryCompleted{"orders", 30s, ErrorCode::kTimeout});
  sink.on_event(DeliveryCompleted{"orders", 0ms, ErrorCode::kRecordTooLarge});
  const auto page = sink.render();
  EXPECT_TRUE(has_line(page, "# TYPE whippet_producer_delivery_duration_seconds histogram"));
  EXPECT_TRUE(
      has_line(page, R"(whippet_producer_delivery_duration_seconds_count{topic="orders"} 1)"));
  EXPECT_TRUE(
      has_line(page, R"(whippet_producer_delivery_duration_seconds_sum{topic="orders"} 0.003)"));
  EXPECT_TRUE(has_line(page, "# TYPE whippet_producer_errors_total counter"));
  EXPECT_TRUE(
      has_line(page, R"(whippet_producer_errors_total{topic="orders",error="timeout"} 1)"));
  EXPECT_TRUE(has_line(
      page, R"(whippet_producer_errors_total{topic="orders",error="record_too_large"} 1)"));
}

TEST(PrometheusSinkTest, LabelValuesAreEscaped) {
  PrometheusSink sink;
  sink.on_event(RecordHandled{{"quote\"back\\slash\nline", "g", "h"}, 1ms});
  EXPECT_TRUE(has_line(sink.render(),
                       R"(whippet_records_handled_total{topic="quote\"back\\slash\nline",)"
                       R"(group="g",handler="h"} 1)"));
}

TEST(PrometheusSinkTest, ConcurrentReportersAddUp) {
  PrometheusSink sink;
  constexpr int kThreads = 4;
  constexpr int kEventsPerThread = 5000;
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&sink, thread] {
      // Half the threads share a label set, half have their own: both the
      // lookup and the creation of series race.
      const ConsumerLabels labels{"orders", "billing", "handler" + std::to_string(thread % 2)};
      for (int event = 0; event < kEventsPerThread; ++event) {
        sink.on_event(RecordHandled{labels, 1ms});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto page = sink.render();
  for (const auto* handler : {"handler0", "handler1"}) {
    EXPECT_TRUE(has_line(page, std::string(R"(whippet_records_handled_total{topic="orders",)") +
                                   R"(group="billing",handler=")" + handler + "\"} " +
                                   std::to_string(2 * kEventsPerThread)));
  }
}

}  // namespace
}  // namespace whippet::metrics
