#include "cluster/embedded_registry.h"

#include <map>
#include <mutex>
#include <set>

#include "whippet/embedded_cluster.h"

namespace whippet::cluster {
namespace {

struct LiveCluster {
  // Valid while registered: the cluster unregisters in its destructor,
  // under the same mutex that every use here holds.
  EmbeddedCluster* cluster = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  std::set<std::string> groups;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, LiveCluster> clusters;
};

Registry& registry() {
  // Never destroyed: embedded clusters held by static objects may unregister
  // during static destruction, after a plain static would be gone.
  static auto* instance = new Registry;
  return *instance;
}

}  // namespace

void register_embedded(const std::string& bootstrap_servers, EmbeddedCluster& cluster,
                       rd_kafka_mock_cluster_t* mock) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  entries.clusters[bootstrap_servers] = LiveCluster{&cluster, mock, {}};
}

void unregister_embedded(const std::string& bootstrap_servers) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  entries.clusters.erase(bootstrap_servers);
}

bool is_embedded_address(const std::string& bootstrap_servers) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  return entries.clusters.contains(bootstrap_servers);
}

bool create_embedded_topic(const std::string& bootstrap_servers, const std::string& topic,
                           int partitions, int replication_factor) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  const auto found = entries.clusters.find(bootstrap_servers);
  if (found == entries.clusters.end()) return false;
  found->second.cluster->create_topic(topic, partitions, replication_factor);
  return true;
}

bool with_mock_cluster(const std::string& bootstrap_servers,
                       const std::function<void(rd_kafka_mock_cluster_t*)>& action) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  const auto found = entries.clusters.find(bootstrap_servers);
  if (found == entries.clusters.end()) return false;
  action(found->second.mock);
  return true;
}

void note_embedded_group(const std::string& bootstrap_servers, const std::string& group) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  const auto found = entries.clusters.find(bootstrap_servers);
  if (found != entries.clusters.end()) found->second.groups.insert(group);
}

std::optional<std::vector<std::string>> embedded_groups(const std::string& bootstrap_servers) {
  auto& entries = registry();
  std::lock_guard lock(entries.mutex);
  const auto found = entries.clusters.find(bootstrap_servers);
  if (found == entries.clusters.end()) return std::nullopt;
  return std::vector<std::string>(found->second.groups.begin(), found->second.groups.end());
}

}  // namespace whippet::cluster
