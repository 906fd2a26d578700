#include "kafka/broker_reachability.h"

#include <spdlog/spdlog.h>

namespace whippet::kafka {

void BrokerReachability::on_client_error(rd_kafka_resp_err_t err, const char* reason) noexcept {
  try {
    const bool connection_failure = err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                                    err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                                    err == RD_KAFKA_RESP_ERR__RESOLVE;
    if (connection_failure) {
      // Transport errors of a single broker are kept for the message but do
      // not mean the cluster is gone; only ALL_BROKERS_DOWN does.
      if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        all_brokers_down_.store(true, std::memory_order_relaxed);
      } else {
        std::lock_guard lock(mutex_);
        last_failure_ = reason != nullptr ? reason : rd_kafka_err2str(err);
      }
    }
    // Connection errors repeat every reconnect attempt; keep them out of the
    // warning level so that a down cluster does not flood the log.
    spdlog::log(connection_failure ? spdlog::level::debug : spdlog::level::warn,
                "librdkafka error {}: {}", rd_kafka_err2name(err),
                reason != nullptr ? reason : "");
  } catch (...) {
    // Logging or copying failed (out of memory); nothing can be reported
    // from inside a librdkafka callback, and nothing may escape it.
  }
}

std::string BrokerReachability::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

std::string unreachable_message(const std::string& bootstrap_servers,
                                const BrokerReachability& reachability) {
  auto message = "broker unreachable: " + bootstrap_servers;
  const auto failure = reachability.last_failure();
  if (!failure.empty()) message += " (" + failure + ")";
  return message;
}

}  // namespace whippet::kafka
