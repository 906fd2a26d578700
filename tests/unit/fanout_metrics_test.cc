// The proxy's Prometheus endpoint: per-subscriber counters that grow as
// records are acknowledged, lag and in-flight gauges, and per-topic figures.

#include <httplib.h>
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

#include "fanout_fixture.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;


class Scraper {
 public:
  explicit Scraper(const std::string& url) : client_(url) {
    client_.set_connection_timeout(5, 0);
    client_.set_read_timeout(5, 0);
  }
  std::string page() {
    const auto response = client_.Get("/metrics");
    EXPECT_TRUE(response) << httplib::to_string(response.error());
    if (!response) return {};
    EXPECT_EQ(response->status, 200);
    return response->body;
  }

 private:
  httplib::Client client_;
};

// The value of the sample `name{labels}` on the page, if there is one.
std::optional<double> sample(const std::string& page, const std::string& series) {
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

class FanoutMetricsTest : public FanoutFixture {
 protected:
  std::string labels(const std::string& subscriber) const {
    return "{topic=\"" + topic_ + "\",subscriber=\"" + subscriber + "\"";
  }
  std::string series(const std::string& name, const std::string& subscriber) const {
    return name + labels(subscriber) + "}";
  }
  std::string series(const std::string& name, const std::string& subscriber,
                     int partition) const {
    return name + labels(subscriber) + ",partition=\"" + std::to_string(partition) + "\"}";
  }
  // Polls the endpoint until `series` reaches at least `value`.
  bool wait_for_at_least(Scraper& scraper, const std::string& name, double value,
                         std::optional<double>& last) {
    return eventually(
        [&] {
          last = sample(scraper.page(), name);
          return last && *last >= value;
        },
        15s, 50ms);
  }
};

TEST_F(FanoutMetricsTest, AcknowledgedRecordsAreCountedPerSubscriber) {
  ASSERT_FALSE(proxy_->metrics_url().empty());
  Scraper scraper(proxy_->metrics_url());
  produce(100);
  ReceivedLog log;
  auto client = subscribe(request("watcher"), log);
  ASSERT_TRUE(log.wait_distinct(100, 30s)) << log.distinct();

  const auto acknowledged = series("whippet_fanout_records_acknowledged_total", "watcher");
  std::optional<double> value;
  ASSERT_TRUE(wait_for_at_least(scraper, acknowledged, 100, value))
      << acknowledged << " = " << value.value_or(-1) << "\n" << scraper.page();
  EXPECT_EQ(*value, 100);

  produce(200, 100);
  ASSERT_TRUE(log.wait_distinct(300, 30s)) << log.distinct();
  ASSERT_TRUE(wait_for_at_least(scraper, acknowledged, 300, value))
      << acknowledged << " = " << value.value_or(-1);
  EXPECT_EQ(*value, 300) << "the counter grows with every acknowledgement";

  const auto page = scraper.page();
  EXPECT_NE(page.find("# TYPE whippet_fanout_records_acknowledged_total counter"),
            std::string::npos);
  EXPECT_NE(page.find("# TYPE whippet_fanout_lag_records gauge"), std::string::npos);
  EXPECT_EQ(sample(page, series("whippet_fanout_records_pushed_total", "watcher")), 300);
  EXPECT_EQ(sample(page, "whippet_fanout_records_read_total{topic=\"" + topic_ + "\"}"), 300)
      << page;
  // Every partition has its lag; all acknowledged, so nothing is behind.
  for (int partition = 0; partition < kPartitions; ++partition) {
    EXPECT_EQ(sample(page, series("whippet_fanout_lag_records", "watcher", partition)), 0)
        << series("whippet_fanout_lag_records", "watcher", partition) << "\n" << page;
    EXPECT_EQ(sample(page, series("whippet_fanout_private_reader", "watcher", partition)), 0);
  }
}

TEST_F(FanoutMetricsTest, LagAndInFlightShowWhatASubscriberHasNotAcknowledged) {
  Scraper scraper(proxy_->metrics_url());
  produce(120);
  auto stream = subscribe_raw(request("dawdler"));
  const auto session = stream->wait_started(10s);
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE(stream->wait_deliveries(120, 30s));

  auto page = scraper.page();
  double lag = 0;
  for (int partition = 0; partition < kPartitions; ++partition) {
    const auto value = sample(page, series("whippet_fanout_lag_records", "dawdler", partition));
    ASSERT_TRUE(value.has_value()) << page;
    lag += *value;
  }
  EXPECT_EQ(lag, 120) << page;
  EXPECT_EQ(sample(page, series("whippet_fanout_in_flight_records", "dawdler")), 120) << page;
  EXPECT_EQ(sample(page, series("whippet_fanout_records_acknowledged_total", "dawdler")), 0);

  // Acknowledged: lag and in-flight drop to zero.
  EXPECT_EQ(acknowledge(*session, stream->deliveries()), 120u);
  page = scraper.page();
  lag = 0;
  for (int partition = 0; partition < kPartitions; ++partition) {
    lag += sample(page, series("whippet_fanout_lag_records", "dawdler", partition)).value_or(-1);
  }
  EXPECT_EQ(lag, 0) << page;
  EXPECT_EQ(sample(page, series("whippet_fanout_in_flight_records", "dawdler")), 0) << page;
  EXPECT_EQ(sample(page, series("whippet_fanout_records_acknowledged_total", "dawdler")), 120);
}

}  // namespace
}  // namespace whippet
