// The producer reports every record's outcome to ProducerOptions::metrics,
// here into a PrometheusSink, against the embedded cluster.

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prometheus_test_helpers.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"
#include "whippet/prometheus.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using whippet::testing::has_line;

class PrometheusProducerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { cluster_.create_topic("t", 1); }

  ProducerOptions options() const {
    ProducerOptions options;
    options.cluster.brokers = cluster_.bootstrap_servers();
    options.delivery_timeout = 10s;
    options.metrics = metrics::MetricsReporter({sink_});
    return options;
  }

  static ProducerRecord record(std::string value) {
    ProducerRecord record;
    record.topic = "t";
    record.value = std::move(value);
    return record;
  }

  EmbeddedCluster cluster_{EmbeddedCluster::Options{}};
  std::shared_ptr<metrics::PrometheusSink> sink_ = std::make_shared<metrics::PrometheusSink>();
};

TEST_F(PrometheusProducerMetricsTest, EveryDeliveryLandsInTheDurationHistogram) {
  Producer producer(options());
  std::vector<std::future<RecordMetadata>> deliveries;
  for (int index = 0; index < 5; ++index) {
    deliveries.push_back(producer.send(record("value-" + std::to_string(index))));
  }
  // The metric is reported before the future is fulfilled: no waiting needed.
  for (auto& delivery : deliveries) delivery.get();

  const auto page = sink_->render();
  EXPECT_TRUE(has_line(page, R"(whippet_producer_delivery_duration_seconds_count{topic="t"} 5)"));
  EXPECT_TRUE(
      has_line(page, R"(whippet_producer_delivery_duration_seconds_bucket{topic="t",le="60"} 5)"));
  EXPECT_EQ(page.find("whippet_producer_errors_total"), std::string::npos) << page;
}

TEST_F(PrometheusProducerMetricsTest, RefusedRecordsAreCountedAsErrors) {
  auto producer_options = options();
  producer_options.max_record_bytes = 10;
  Producer producer(producer_options);
  auto refused = producer.send(record(std::string(100, 'x')));
  EXPECT_THROW(refused.get(), Error);
  producer.send(record("small")).get();

  const auto page = sink_->render();
  EXPECT_TRUE(
      has_line(page, R"(whippet_producer_errors_total{topic="t",error="record_too_large"} 1)"));
  EXPECT_TRUE(has_line(page, R"(whippet_producer_delivery_duration_seconds_count{topic="t"} 1)"));
}

TEST_F(PrometheusProducerMetricsTest, CallbackDeliveriesAreReportedToo) {
  Producer producer(options());
  std::promise<void> delivered;
  producer.send(record("v"),
                [&delivered](const Result<RecordMetadata>& /*outcome*/) { delivered.set_value(); });
  ASSERT_EQ(delivered.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(has_line(sink_->render(),
                       R"(whippet_producer_delivery_duration_seconds_count{topic="t"} 1)"));
}

}  // namespace
}  // namespace whippet
