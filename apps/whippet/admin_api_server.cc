#include "admin_api_server.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "admin_api_client.h"
#include "admin_api_json.h"
#include "whippet/admin.h"

namespace whippet::cli {
namespace {

constexpr const char* kHost = "127.0.0.1";

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kSerialization:
      return 400;
    case ErrorCode::kUnknownTopic:
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUnsupported:
      return 501;
    case ErrorCode::kBrokerUnreachable:
    case ErrorCode::kShutdown:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    default:
      return 500;
  }
}

// Runs one request's work and turns its outcome, or its error, into JSON.
void respond(httplib::Response& response, const std::function<nlohmann::json(int&)>& work) {
  int status = 200;
  nlohmann::json body;
  try {
    body = work(status);
  } catch (const Error& error) {
    status = status_for(error.code());
    body = error_to_json(error);
  } catch (const nlohmann::json::exception& error) {
    status = 400;
    body = error_to_json(Error(ErrorCode::kInvalidArgument,
                               std::string("malformed request body: ") + error.what()));
  }
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

}  // namespace

struct AdminApiServer::Impl {
  std::shared_ptr<EmbeddedCluster> cluster;
  // One admin client for all requests; the server's threads take turns.
  std::mutex admin_mutex;
  AdminClient admin{AdminOptions{}};  // no brokers: the process-wide embedded cluster
  // Groups other processes' consumers announced (POST /v1/groups): the mock
  // cannot list groups, and the SDK only knows this process's consumers.
  std::set<std::string> announced_groups;
  httplib::Server server;
  int port = 0;
  std::thread thread;

  nlohmann::json create_topic(const httplib::Request& request, int& status);
  void add_routes();
};

nlohmann::json AdminApiServer::Impl::create_topic(const httplib::Request& request, int& status) {
  const auto json = nlohmann::json::parse(request.body);
  NewTopic topic;
  topic.name = json.at("name").get<std::string>();
  topic.partitions = json.value("partitions", 1);
  topic.replication_factor = json.value("replication_factor", 1);
  if (json.contains("configs") && !json["configs"].empty()) {
    throw Error(ErrorCode::kUnsupported,
                "the embedded cluster (librdkafka mock) cannot set topic configs",
                ErrorContext::of_topic(topic.name));
  }
  std::lock_guard lock(admin_mutex);
  const auto existing = admin.list_topics(true);
  if (std::find(existing.begin(), existing.end(), topic.name) != existing.end()) {
    if (json.value("if_not_exists", false)) return {{"name", topic.name}, {"created", false}};
    status = 409;
    return error_to_json(Error(ErrorCode::kInvalidArgument,
                               "topic " + topic.name + " already exists",
                               ErrorContext::of_topic(topic.name)));
  }
  cluster->create_topic(topic.name, topic.partitions, topic.replication_factor);
  spdlog::info("created topic {} with {} partition(s)", topic.name, topic.partitions);
  status = 201;
  return {{"name", topic.name}, {"partitions", topic.partitions}, {"created", true}};
}

void AdminApiServer::Impl::add_routes() {
  server.Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    respond(response, [this](int&) -> nlohmann::json {
      return {{"status", "ok"}, {"bootstrap", cluster->bootstrap_servers()}};
    });
  });
  server.Get("/v1/topics", [this](const httplib::Request&, httplib::Response& response) {
    respond(response, [this](int&) {
      std::lock_guard lock(admin_mutex);
      auto topics = nlohmann::json::array();
      for (const auto& name : admin.list_topics()) {
        topics.push_back({{"name", name},
                          {"partitions", admin.describe_topic(name).partitions.size()}});
      }
      return nlohmann::json{{"topics", topics}};
    });
  });
  server.Post("/v1/topics", [this](const httplib::Request& request, httplib::Response& response) {
    respond(response, [&](int& status) { return create_topic(request, status); });
  });
  server.Delete(R"(/v1/topics/([^/]+))",
                [this](const httplib::Request& request, httplib::Response& response) {
                  respond(response, [&](int&) {
                    std::lock_guard lock(admin_mutex);
                    admin.delete_topic(request.matches[1]);
                    return nlohmann::json{{"deleted", request.matches[1]}};
                  });
                });
  server.Get("/v1/groups", [this](const httplib::Request&, httplib::Response& response) {
    respond(response, [this](int&) {
      std::lock_guard lock(admin_mutex);
      std::map<std::string, GroupListing> groups;
      for (const auto& group : announced_groups) groups[group] = {group, "", "consumer"};
      for (const auto& group : admin.list_groups()) groups[group.group_id] = group;
      auto json = nlohmann::json::array();
      for (const auto& [name, group] : groups) json.push_back(group_to_json(group));
      return nlohmann::json{{"groups", json}};
    });
  });
  server.Post("/v1/groups", [this](const httplib::Request& request, httplib::Response& response) {
    respond(response, [&](int&) {
      const auto group = nlohmann::json::parse(request.body).at("group_id").get<std::string>();
      std::lock_guard lock(admin_mutex);
      announced_groups.insert(group);
      return nlohmann::json{{"group_id", group}};
    });
  });
  server.Post("/v1/groups/lag",
              [this](const httplib::Request& request, httplib::Response& response) {
                respond(response, [&](int&) {
                  const auto json = nlohmann::json::parse(request.body);
                  const auto group = json.at("group").get<std::string>();
                  const auto topics = json.value("topics", std::vector<std::string>{});
                  std::lock_guard lock(admin_mutex);
                  auto partitions = nlohmann::json::array();
                  for (const auto& lag : admin.group_lag(group, topics)) {
                    partitions.push_back(lag_to_json(lag));
                  }
                  return nlohmann::json{{"partitions", partitions}};
                });
              });
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    spdlog::debug("admin API: {} {} -> {}", request.method, request.path, response.status);
  });
}

AdminApiServer::AdminApiServer(std::shared_ptr<EmbeddedCluster> cluster, int port)
    : impl_(std::make_unique<Impl>()) {
  impl_->cluster = std::move(cluster);
  if (impl_->admin.cluster().bootstrap_servers != impl_->cluster->bootstrap_servers()) {
    throw Error(ErrorCode::kInvalidArgument,
                "the admin API must serve the process-wide embedded cluster");
  }
  impl_->add_routes();
  if (port == 0) {
    impl_->port = impl_->server.bind_to_any_port(kHost);
  } else if (impl_->server.bind_to_port(kHost, port)) {
    impl_->port = port;
  } else {
    impl_->port = -1;
  }
  if (impl_->port < 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot listen on " + std::string(kHost) + ":" + std::to_string(port) +
                    " (in use? choose another --admin-port, or 0 for any free port)");
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // Answering a request proves the server loop runs. It also matters for
  // shutdown: httplib's stop() does nothing before the loop has started.
  if (AdminApiClient(url()).health() != impl_->cluster->bootstrap_servers()) {
    impl_->thread.detach();  // cannot be stopped; it ends with the process
    throw Error(ErrorCode::kKafka, "the admin API at " + url() + " does not answer");
  }
}

AdminApiServer::~AdminApiServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string AdminApiServer::url() const {
  return "http://" + std::string(kHost) + ":" + std::to_string(impl_->port);
}

}  // namespace whippet::cli
