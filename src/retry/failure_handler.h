#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>

#include "consumer/partition_state.h"
#include "retry/retry_control.h"
#include "retry/retry_headers.h"
#include "retry/retry_topology.h"
#include "whippet/admin.h"
#include "whippet/cluster.h"
#include "whippet/metrics.h"
#include "whippet/producer.h"
#include "whippet/retry.h"

namespace whippet::retry {

struct FailureHandlerOptions {
  RetryPolicies policies;
  std::string group;
  std::string handler_name;
  ClusterOptions cluster;
  metrics::MetricsReporter metrics;
};

// What happens after a handler threw, by the policy of the record's topic:
// retry in place (blocking), send a copy to the next retry topic, or to the
// dead-letter topic. Runs on the worker thread that ran the handler.
class FailureHandler {
 public:
  FailureHandler(FailureHandlerOptions options, RetryTopology topology, RetryControl& control);
  ~FailureHandler();
  FailureHandler(const FailureHandler&) = delete;
  FailureHandler& operator=(const FailureHandler&) = delete;

  enum class Outcome {
    kRecovered,  // a retry in place succeeded: handled, committable
    kDone,       // given up on (logged, or its copy is safely stored): committable
    kAbandoned,  // interrupted by revoke or shutdown: stays uncommitted
  };

  // `records` failed together (one record, or a batch) with `error`;
  // `attempt_again` runs the handler on them once more and throws on failure.
  Outcome handle(consumer::PartitionState& partition, std::span<const Record> records,
                 std::exception_ptr error, const std::function<void()>& attempt_again);

  // Creates the retry and dead-letter topics the topology knows of, if
  // missing. Throws whippet::Error when that fails.
  void provision_topics();

  // Stops waiting for deliveries and closes the producer.
  void close();

 private:
  Outcome retry_in_place(consumer::PartitionState& partition, std::span<const Record> records,
                         std::exception_ptr error, const BlockingRetry& policy,
                         const std::function<void()>& attempt_again);
  Outcome send_to_next_step(consumer::PartitionState& partition, std::span<const Record> records,
                            std::exception_ptr error, const RetryTopics& policy);
  Outcome dead_letter(consumer::PartitionState& partition, std::span<const Record> records,
                      const FailureDescription& failure, int attempts);
  // Sends every copy and waits until the broker has them all; failed sends
  // are sent again (with back-off) until they succeed or the partition stops.
  Outcome publish(consumer::PartitionState& partition, std::vector<ProducerRecord> copies);
  // Creates `topic` (fed from `source`) unless this handler already knows it.
  void ensure_topic(const std::string& topic, const std::string& source);
  void create_topic(AdminClient& admin, const std::string& topic, const std::string& source);
  bool known(const std::string& topic);
  Producer& producer();
  metrics::ConsumerLabels labels(const std::string& topic) const;

  const FailureHandlerOptions options_;
  const RetryTopology topology_;
  RetryControl& control_;

  std::mutex mutex_;  // guards the fields below
  std::unique_ptr<Producer> producer_;
  std::set<std::string> known_topics_;
};

}  // namespace whippet::retry
