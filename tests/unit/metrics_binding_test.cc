// MetricsReporter::bind_consumer: a bound PrometheusSink series renders
// exactly what the same events sent with labels render, sinks that do not
// bind still get labelled events, and the decorator binds once per topic.

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "consumer/handler_decorators.h"
#include "prometheus_test_helpers.h"
#include "whippet/prometheus.h"

namespace whippet::metrics {
namespace {

using namespace std::chrono_literals;
using whippet::testing::has_line;

const ConsumerLabels kLabels{"orders", "billing", "charge"};

// Remembers every event, labels included; does not bind.
class RecordingSink final : public MetricsSink {
 public:
  void on_event(const Event& event) noexcept override {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

// Counts how often it is asked to bind.
class CountingBindSink final : public MetricsSink {
 public:
  explicit CountingBindSink(std::shared_ptr<PrometheusSink> inner) : inner_(std::move(inner)) {}
  void on_event(const Event& event) noexcept override { inner_->on_event(event); }
  std::shared_ptr<BoundConsumerSink> bind_consumer(const ConsumerLabels& labels) override {
    std::lock_guard lock(mutex_);
    bound_topics.push_back(labels.topic);
    return inner_->bind_consumer(labels);
  }
  std::mutex mutex_;
  std::vector<std::string> bound_topics;

 private:
  std::shared_ptr<PrometheusSink> inner_;
};

TEST(MetricsBindingTest, BoundSeriesRendersLikeLabelledEvents) {
  auto bound_sink = std::make_shared<PrometheusSink>();
  PrometheusSink event_sink;
  const auto bound = MetricsReporter({bound_sink}).bind_consumer(kLabels);
  bound.record_handled(300us);
  bound.record_handled(2s);
  bound.record_failed(10ms, "std::runtime_error");
  bound.record_failed(10ms, "");
  bound.retry_scheduled(1);
  bound.retry_scheduled(12);
  bound.record_dead_lettered();
  event_sink.on_event(RecordHandled{kLabels, 300us});
  event_sink.on_event(RecordHandled{kLabels, 2s});
  event_sink.on_event(RecordFailed{kLabels, 10ms, "std::runtime_error"});
  event_sink.on_event(RecordFailed{kLabels, 10ms, ""});
  event_sink.on_event(RetryScheduled{kLabels, 1});
  event_sink.on_event(RetryScheduled{kLabels, 12});
  event_sink.on_event(RecordDeadLettered{kLabels});
  EXPECT_EQ(bound_sink->render(), event_sink.render());
  EXPECT_TRUE(has_line(
      bound_sink->render(),
      R"(whippet_records_handled_total{topic="orders",group="billing",handler="charge"} 2)"));
}

TEST(MetricsBindingTest, SinksThatDoNotBindGetLabelledEvents) {
  auto sink = std::make_shared<RecordingSink>();
  const auto bound = MetricsReporter({sink}).bind_consumer(kLabels);
  bound.record_handled(5ms);
  bound.record_failed(7ms, "whippet::Error");
  const auto events = sink->events();
  ASSERT_EQ(events.size(), 2u);
  const auto& handled = std::get<RecordHandled>(events[0]);
  EXPECT_EQ(handled.labels.topic, "orders");
  EXPECT_EQ(handled.labels.group, "billing");
  EXPECT_EQ(handled.labels.handler, "charge");
  EXPECT_EQ(handled.duration, 5ms);
  const auto& failed = std::get<RecordFailed>(events[1]);
  EXPECT_EQ(failed.labels.topic, "orders");
  EXPECT_EQ(failed.duration, 7ms);
  EXPECT_EQ(failed.error_type, "whippet::Error");
}

TEST(MetricsBindingTest, BoundHandleOutlivesItsSink) {
  auto sink = std::make_shared<PrometheusSink>();
  const auto bound = MetricsReporter({sink}).bind_consumer(kLabels);
  sink.reset();
  bound.record_handled(1ms);  // the handle keeps the series alive: no crash
}

TEST(MetricsBindingTest, DecoratorBindsOncePerTopicAndCountsEveryRecord) {
  auto prometheus = std::make_shared<PrometheusSink>();
  auto counting = std::make_shared<CountingBindSink>(prometheus);
  const auto handler = consumer::with_metrics(
      [](const Record& record) {
        if (record.offset < 0) throw std::runtime_error("bad");
      },
      MetricsReporter({counting}), "billing", "charge");
  constexpr int kThreads = 4;
  constexpr int kRecordsPerThread = 2000;
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&handler] {
      for (int index = 0; index < kRecordsPerThread; ++index) {
        Record record;
        record.topic = index % 2 == 0 ? "orders" : "payments";
        record.offset = index;
        handler(record);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Record failing;
  failing.topic = "orders";
  failing.offset = -1;
  EXPECT_THROW(handler(failing), std::runtime_error);
  EXPECT_EQ(counting->bound_topics.size(), 2u);
  const auto page = prometheus->render();
  const auto handled = std::to_string(kThreads * kRecordsPerThread / 2);
  EXPECT_TRUE(has_line(page, R"(whippet_records_handled_total{topic="orders",group="billing",)"
                             R"(handler="charge"} )" + handled));
  EXPECT_TRUE(has_line(page, R"(whippet_records_handled_total{topic="payments",group="billing",)"
                             R"(handler="charge"} )" + handled));
  EXPECT_TRUE(has_line(page, R"(whippet_records_failed_total{topic="orders",group="billing",)"
                             R"(handler="charge",error_type="std::runtime_error"} 1)"));
  EXPECT_TRUE(has_line(page, R"(whippet_handler_duration_seconds_count{topic="orders",)"
                             R"(group="billing",handler="charge"} )" +
                                 std::to_string(kThreads * kRecordsPerThread / 2 + 1)));
}

}  // namespace
}  // namespace whippet::metrics
