#pragma once

// Remembers whether librdkafka last said that every broker is down, so that
// a timeout can be reported as what it most likely is: an unreachable
// cluster rather than a slow one.

#include <atomic>
#include <mutex>
#include <string>

#include <librdkafka/rdkafka.h>

namespace whippet::kafka {

class BrokerReachability {
 public:
  // Feed every error librdkafka reports through its error callback. Never
  // throws: it runs inside librdkafka callbacks.
  void on_client_error(rd_kafka_resp_err_t err, const char* reason) noexcept;

  // A request succeeded, so at least one broker answers again.
  // Called per delivered record: it writes only when the flag changes, so
  // that the cache line stays shared with the threads that read it (and
  // whatever sits next to it) instead of moving to this thread every time.
  void on_success() noexcept {
    if (all_brokers_down_.load(std::memory_order_relaxed)) {
      all_brokers_down_.store(false, std::memory_order_relaxed);
    }
  }

  bool all_brokers_down() const noexcept {
    return all_brokers_down_.load(std::memory_order_relaxed);
  }

  // librdkafka's text for the last connection failure, e.g. "Connection refused".
  std::string last_failure() const;

 private:
  std::atomic<bool> all_brokers_down_{false};
  mutable std::mutex mutex_;
  std::string last_failure_;
};

// "broker unreachable: <bootstrap servers> (<last failure>)"
std::string unreachable_message(const std::string& bootstrap_servers,
                                const BrokerReachability& reachability);

}  // namespace whippet::kafka
