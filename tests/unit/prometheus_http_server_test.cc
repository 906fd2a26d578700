// MetricsHttpServer: /metrics and /healthz over real HTTP, 404 and 405.

#include <memory>
#include <string>

#include <httplib.h>
#include <gtest/gtest.h>

#include "whippet/error.h"
#include "whippet/prometheus.h"

namespace whippet::metrics {
namespace {

using namespace std::chrono_literals;

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  httplib::Client client() const {
    httplib::Client client("127.0.0.1", server_.port());
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(5, 0);
    return client;
  }

  std::shared_ptr<PrometheusSink> sink_ = std::make_shared<PrometheusSink>();
  MetricsHttpServer server_{sink_};
};

TEST_F(MetricsHttpServerTest, ServesTheRenderedPageAsPrometheusText) {
  sink_->on_event(RecordHandled{{"orders", "billing", "charge"}, 1ms});
  EXPECT_GT(server_.port(), 0);
  EXPECT_EQ(server_.url(), "http://127.0.0.1:" + std::to_string(server_.port()));

  auto response = client().Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"))
      << response->get_header_value("Content-Type");
  EXPECT_EQ(response->body, sink_->render());
  EXPECT_NE(response->body.find(R"(whippet_records_handled_total{topic="orders",group="billing",)"
                                R"(handler="charge"} 1)"),
            std::string::npos);

  // Every scrape renders afresh.
  sink_->on_event(RecordHandled{{"orders", "billing", "charge"}, 1ms});
  response = client().Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_NE(response->body.find(R"(handler="charge"} 2)"), std::string::npos);
}

TEST_F(MetricsHttpServerTest, AnswersHealthChecks) {
  const auto response = client().Get("/healthz");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");
}

TEST_F(MetricsHttpServerTest, UnknownPathsAreNotFound) {
  const auto response = client().Get("/metrics/extra");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(client().Get("/")->status, 404);
}

TEST_F(MetricsHttpServerTest, OtherMethodsAreNotAllowed) {
  auto http = client();
  const auto post = http.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post) << httplib::to_string(post.error());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(http.Put("/healthz", "x", "text/plain")->status, 405);
  EXPECT_EQ(http.Delete("/metrics")->status, 405);
}

TEST_F(MetricsHttpServerTest, ABusyPortIsRefusedWithAnError) {
  MetricsHttpServerOptions options;
  options.port = server_.port();
  try {
    MetricsHttpServer second(sink_, options);
    FAIL() << "a second server bound port " << options.port;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find(std::to_string(options.port)), std::string::npos);
  }
}

TEST(MetricsHttpServerLifetimeTest, StopsListeningWhenDestroyed) {
  auto sink = std::make_shared<PrometheusSink>();
  int port = 0;
  {
    MetricsHttpServer server(sink);
    port = server.port();
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  EXPECT_FALSE(client.Get("/healthz"));
}

TEST(MetricsHttpServerLifetimeTest, ManyServersStartAndStopAtOnce) {
  // Each constructor waits for its loop, so an immediate destruction never hangs.
  auto sink = std::make_shared<PrometheusSink>();
  for (int round = 0; round < 5; ++round) MetricsHttpServer server(sink);
}

}  // namespace
}  // namespace whippet::metrics
