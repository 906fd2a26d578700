#pragma once

// The sidecar's side of one Consume stream: the consumer's handler pushes a
// record to the client and waits for the client's answer.
//
// Each record pushed gets a delivery id and waits, on its own worker thread,
// for the client's outcome: ACK and SKIP complete it, FAILED and
// NON_RETRIABLE throw so that the SDK's retry policy takes over, and no
// answer within the ack deadline counts as FAILED. At most max_in_flight
// records wait at once; further handlers wait for a slot. When the stream
// ends, every waiting record is abandoned (RecordAbandoned): it stays
// uncommitted and goes to the group's next client.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>
#include <nlohmann/json.hpp>

#include "whippet/record.h"
#include "whippet/v1/sidecar.pb.h"

namespace whippet::sidecar {

struct SessionSettings {
  std::size_t max_in_flight = 256;
  std::chrono::milliseconds ack_deadline{30000};
};

class SubscriptionSession {
 public:
  using Push = std::function<void(v1::Delivery)>;
  SubscriptionSession(SessionSettings settings, Push push);

  // The consumer's handler. Returns once the client acknowledged or skipped
  // the record; throws ReportedFailure for a failure or a missed deadline and
  // RecordAbandoned once the session ends.
  void handle(const Record& record);

  // The writer sent these deliveries: their ack deadlines start now, so a
  // client slow to read is not charged for the time they sat in the queue.
  void written(const std::vector<uint64_t>& delivery_ids);

  // Applies the client's answers. An id never issued is INVALID_ARGUMENT; an
  // answer to a record no longer waiting (answered before, or past its
  // deadline) is counted and ignored.
  grpc::Status apply(const v1::Outcomes& outcomes);

  // Pushes nothing more and waits up to `timeout` for the records pushed
  // already to be answered. True when none is left waiting.
  bool drain(std::chrono::milliseconds timeout);
  // Ends the session: every waiting and future record is abandoned.
  void abandon();

  std::size_t in_flight() const;
  nlohmann::json counters() const;

 private:
  struct Waiting {
    std::condition_variable answered;
    std::optional<v1::Outcome> outcome;
    std::optional<std::chrono::steady_clock::time_point> written_at;
  };

  uint64_t enter(Waiting& waiting);
  // Waits for the outcome, the deadline after the write, or the end; then
  // forgets the delivery. Returns the outcome, if one came.
  std::optional<v1::Outcome> wait_for_outcome(uint64_t id, Waiting& waiting, bool& abandoned);
  void leave(uint64_t id);
  void leave_locked(uint64_t id);  // with mutex_ held
  [[noreturn]] void throw_abandoned(const Record& record) const;

  const SessionSettings settings_;
  const Push push_;
  mutable std::mutex mutex_;
  std::condition_variable slot_free_;
  std::condition_variable drained_;
  std::map<uint64_t, Waiting*> waiting_;
  uint64_t last_id_ = 0;
  bool draining_ = false;
  bool abandoned_ = false;

  struct Counters {
    std::atomic<uint64_t> delivered{0}, acknowledged{0}, skipped{0}, failed{0}, non_retriable{0},
        deadline_missed{0}, stale_outcomes{0}, abandoned{0};
  } counters_;
};

}  // namespace whippet::sidecar
