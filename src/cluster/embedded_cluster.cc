#include "whippet/embedded_cluster.h"

#include <mutex>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include "cluster/embedded_registry.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"
#include "kafka/handles.h"
#include "whippet/error.h"

namespace whippet {
namespace {

// The librdkafka 2.0.2 mock auto-creates topics with this many partitions
// and offers no way to change it (rdkafka_mock.c sets
// mcluster->defaults.partition_cnt = 4 and nothing writes it afterwards).
constexpr int kMockAutoCreatePartitions = 4;

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const noexcept {
    rd_kafka_mock_cluster_destroy(cluster);
  }
};
using MockClusterHandle = std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter>;

kafka::KafkaHandle create_owner_handle() {
  // The mock needs an rd_kafka_t for its bookkeeping and logging. It never
  // connects anywhere: no bootstrap servers, so nothing but the mock's own
  // threads run on its behalf.
  const kafka::Properties properties = {
      {"client.id", "whippet-embedded-cluster"},
      // Without bootstrap servers librdkafka warns that it cannot connect;
      // for this handle that is intended, so only errors are logged.
      {"log_level", "3"},
  };
  return kafka::create_client(RD_KAFKA_PRODUCER, kafka::build_conf(properties, {}));
}

}  // namespace

struct EmbeddedCluster::Impl {
  // Declared first so that it is destroyed last: the mock cluster must be
  // destroyed while the handle it was created on still exists.
  kafka::KafkaHandle owner;
  MockClusterHandle mock;
  std::string bootstrap_servers;
};

EmbeddedCluster::EmbeddedCluster(Options options) : impl_(std::make_unique<Impl>()) {
  if (options.brokers < 1) {
    throw Error(ErrorCode::kInvalidArgument,
                "embedded cluster needs at least 1 broker, not " + std::to_string(options.brokers));
  }
  if (options.default_partitions != kMockAutoCreatePartitions) {
    // Failing beats silently creating topics with a different partition count
    // than the caller asked for.
    throw Error(ErrorCode::kUnsupported,
                "the embedded cluster (librdkafka mock) always auto-creates topics with " +
                    std::to_string(kMockAutoCreatePartitions) + " partitions; default_partitions=" +
                    std::to_string(options.default_partitions) +
                    " is not possible: create topics explicitly with create_topic instead");
  }
  impl_->owner = create_owner_handle();
  impl_->mock.reset(rd_kafka_mock_cluster_new(impl_->owner.get(), options.brokers));
  if (!impl_->mock) {
    throw Error(ErrorCode::kKafka, "cannot start the embedded Kafka cluster (librdkafka mock)");
  }
  impl_->bootstrap_servers = rd_kafka_mock_cluster_bootstraps(impl_->mock.get());
  cluster::register_embedded(impl_->bootstrap_servers, *this, impl_->mock.get());
}

EmbeddedCluster::~EmbeddedCluster() { cluster::unregister_embedded(impl_->bootstrap_servers); }

std::shared_ptr<EmbeddedCluster> EmbeddedCluster::shared() {
  // A weak_ptr, not a static shared_ptr: the cluster stops when the last
  // client releases it instead of living until static destruction, when
  // librdkafka's threads may already be gone.
  static std::mutex mutex;
  static std::weak_ptr<EmbeddedCluster> instance;
  std::lock_guard lock(mutex);
  if (auto existing = instance.lock()) return existing;
  auto cluster = std::make_shared<EmbeddedCluster>(Options{});
  spdlog::info("embedded Kafka cluster (librdkafka mock) listening at {}",
               cluster->bootstrap_servers());
  instance = cluster;
  return cluster;
}

const std::string& EmbeddedCluster::bootstrap_servers() const { return impl_->bootstrap_servers; }

void EmbeddedCluster::create_topic(const std::string& topic, int partitions,
                                   int replication_factor) {
  if (topic.empty()) throw Error(ErrorCode::kInvalidArgument, "topic name must not be empty");
  if (partitions < 1) {
    throw Error(ErrorCode::kInvalidArgument,
                "topic " + topic + " needs at least 1 partition, not " + std::to_string(partitions),
                ErrorContext::of_topic(topic));
  }
  if (replication_factor < 1) {
    throw Error(ErrorCode::kInvalidArgument,
                "topic " + topic + " needs a replication factor of at least 1, not " +
                    std::to_string(replication_factor),
                ErrorContext::of_topic(topic));
  }
  const auto err =
      rd_kafka_mock_topic_create(impl_->mock.get(), topic.c_str(), partitions, replication_factor);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw kafka::translate(err, "cannot create topic on the embedded cluster", ErrorContext::of_topic(topic));
  }
}

}  // namespace whippet
