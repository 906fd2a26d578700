#include "admin_api_client.h"

#include <httplib.h>

#include "admin_api_json.h"

namespace whippet::cli {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(2);

httplib::Client connect(const std::string& base_url, std::chrono::milliseconds timeout) {
  httplib::Client client(base_url);
  client.set_connection_timeout(kConnectTimeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  return client;
}

// The response body on success; otherwise the server's error, rebuilt.
nlohmann::json expect_success(const httplib::Result& result, const std::string& base_url,
                              const std::string& what) {
  if (!result) {
    throw Error(ErrorCode::kBrokerUnreachable, "cannot " + what + ": the `whippet up` admin API at " +
                                                   base_url + " did not answer (" +
                                                   httplib::to_string(result.error()) + ")");
  }
  if (result->status >= 300) {
    throw error_from_json(result->body, "cannot " + what + ": HTTP " +
                                            std::to_string(result->status) + " from " + base_url);
  }
  return nlohmann::json::parse(result->body);
}

}  // namespace

AdminApiClient::AdminApiClient(std::string base_url, std::chrono::milliseconds timeout)
    : base_url_(std::move(base_url)), timeout_(timeout) {}

std::optional<std::string> AdminApiClient::health() const {
  // Discovery must be quick: a dead address should not hold up every command.
  auto client = connect(base_url_, std::chrono::seconds(2));
  const auto result = client.Get("/healthz");
  if (!result || result->status != 200) return std::nullopt;
  const auto json = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("bootstrap")) return std::nullopt;
  return json["bootstrap"].get<std::string>();
}

bool AdminApiClient::create_topic(const NewTopic& topic, bool if_not_exists) const {
  const nlohmann::json request{{"name", topic.name},
                               {"partitions", topic.partitions},
                               {"replication_factor", topic.replication_factor},
                               {"configs", topic.configs},
                               {"if_not_exists", if_not_exists}};
  auto client = connect(base_url_, timeout_);
  const auto response = expect_success(
      client.Post("/v1/topics", request.dump(), "application/json"), base_url_,
      "create topic " + topic.name);
  return response.value("created", true);
}

void AdminApiClient::delete_topic(const std::string& name) const {
  auto client = connect(base_url_, timeout_);
  expect_success(client.Delete("/v1/topics/" + name), base_url_, "delete topic " + name);
}

std::vector<GroupListing> AdminApiClient::list_groups() const {
  auto client = connect(base_url_, timeout_);
  const auto response = expect_success(client.Get("/v1/groups"), base_url_, "list groups");
  std::vector<GroupListing> groups;
  for (const auto& group : response.at("groups")) groups.push_back(group_from_json(group));
  return groups;
}

void AdminApiClient::announce_group(const std::string& group_id) const {
  auto client = connect(base_url_, timeout_);
  const nlohmann::json request{{"group_id", group_id}};
  expect_success(client.Post("/v1/groups", request.dump(), "application/json"), base_url_,
                 "announce group " + group_id);
}

std::vector<PartitionLag> AdminApiClient::group_lag(const std::string& group_id,
                                                    const std::vector<std::string>& topics) const {
  const nlohmann::json request{{"group", group_id}, {"topics", topics}};
  auto client = connect(base_url_, timeout_);
  const auto response =
      expect_success(client.Post("/v1/groups/lag", request.dump(), "application/json"), base_url_,
                     "read the lag of group " + group_id);
  std::vector<PartitionLag> lags;
  for (const auto& lag : response.at("partitions")) lags.push_back(lag_from_json(lag));
  return lags;
}

}  // namespace whippet::cli
