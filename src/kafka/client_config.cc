#include "kafka/client_config.h"

#include <spdlog/spdlog.h>

#include "kafka/error_translation.h"

namespace whippet::kafka {
namespace {

// librdkafka logs through this callback instead of writing to stderr itself,
// so that a library never prints on its own.
void log_to_spdlog(const rd_kafka_t* /*handle*/, int level, const char* facility,
                   const char* message) {
  // syslog levels: 0 emerg ... 7 debug
  auto spd_level = spdlog::level::debug;
  if (level <= 3) {
    spd_level = spdlog::level::err;
  } else if (level == 4) {
    spd_level = spdlog::level::warn;
  } else if (level <= 6) {
    spd_level = spdlog::level::info;
  }
  spdlog::log(spd_level, "librdkafka {}: {}", facility, message);
}

}  // namespace

Properties cluster_properties(const ResolvedCluster& cluster, const ClusterOptions& options) {
  const auto timeout_ms = std::to_string(options.request_timeout.count());
  return {
      {"bootstrap.servers", cluster.bootstrap_servers},
      {"client.id", options.client_id},
      {"socket.timeout.ms", timeout_ms},
      // The broker may be on loopback with several addresses; keep it simple.
      {"broker.address.family", "v4"},
  };
}

ConfHandle build_conf(const Properties& properties, const Properties& overrides) {
  ConfHandle conf(rd_kafka_conf_new());
  char error_text[512];
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error_text,
                          sizeof error_text) != RD_KAFKA_CONF_OK) {
      throw Error(ErrorCode::kInvalidConfig,
                  "librdkafka rejected property " + name + "=" + value + ": " + error_text);
    }
  };
  for (const auto& [name, value] : properties) set(name, value);
  for (const auto& [name, value] : overrides) set(name, value);
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_spdlog);
  return conf;
}

KafkaHandle create_client(rd_kafka_type_t type, ConfHandle conf) {
  char error_text[512];
  // On success rd_kafka_new takes ownership of conf; on failure it does not.
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), error_text, sizeof error_text);
  if (handle == nullptr) {
    throw Error(ErrorCode::kInvalidConfig,
                std::string("cannot create Kafka client: ") + error_text);
  }
  conf.release();
  return KafkaHandle(handle);
}

Properties consumer_base_properties(const ResolvedCluster& cluster, const ClusterOptions& options,
                                    const std::string& group_id) {
  auto properties = cluster_properties(cluster, options);
  properties["group.id"] = group_id;
  properties["enable.auto.commit"] = "false";
  properties["enable.auto.offset.store"] = "false";
  properties["enable.partition.eof"] = "false";
  // A partition resumed after back-pressure waits for the Fetch in flight,
  // which the broker holds up to this long once the other partitions are
  // caught up; librdkafka's 500 ms default made every pause cost half a
  // second. 100 ms keeps idle fetch traffic at ten requests a second.
  properties["fetch.wait.max.ms"] = "100";
  // librdkafka 2.0.2 stops fetching while its local queue holds
  // queued.min.messages (100000) and looks again only a hard-coded second
  // later (fetch.queue.backoff.ms exists from 2.3.0 on): with 100-byte
  // records a consumer stalled a second every 100,000. The prefetch stays
  // bounded by queued.max.messages.kbytes.
  properties["queued.min.messages"] = "10000000";
  return properties;
}

}  // namespace whippet::kafka
