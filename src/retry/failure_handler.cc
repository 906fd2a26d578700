#include "retry/failure_handler.h"

#include <algorithm>
#include <atomic>
#include <variant>

#include <spdlog/spdlog.h>

#include "consumer/worker_pool.h"
#include "whippet/admin.h"
#include "whippet/error.h"

namespace whippet::retry {
namespace {

constexpr std::chrono::milliseconds kFirstResendDelay{100};
constexpr std::chrono::milliseconds kLongestResendDelay{5000};
constexpr std::size_t kLongestErrorMessage = 2000;
constexpr std::size_t kLongestErrorType = 200;

// The outcomes of one publish round, filled in by delivery callbacks.
struct Deliveries {
  std::mutex mutex;
  std::size_t outstanding = 0;
  std::vector<std::size_t> failed;  // indexes into the copies
  std::string last_error;
};

// What a copy's headers say about the failure, bounded: a huge exception
// text must not make the copy itself too large to store.
FailureDescription shortened(FailureDescription failure) {
  if (failure.message.size() > kLongestErrorMessage) failure.message.resize(kLongestErrorMessage);
  if (failure.type.size() > kLongestErrorType) failure.type.resize(kLongestErrorType);
  return failure;
}

std::string position_of(std::span<const Record> records) {
  const auto& first = records.front();
  auto text = first.topic + "-" + std::to_string(first.partition) + "@" +
              std::to_string(first.offset);
  if (records.size() > 1) text += " (+" + std::to_string(records.size() - 1) + " in its batch)";
  return text;
}

}  // namespace

FailureHandler::FailureHandler(FailureHandlerOptions options, RetryTopology topology,
                               RetryControl& control)
    : options_(std::move(options)), topology_(std::move(topology)), control_(control) {}

FailureHandler::~FailureHandler() { close(); }

void FailureHandler::close() {
  std::unique_ptr<Producer> producer;
  {
    std::lock_guard lock(mutex_);
    producer = std::move(producer_);
  }
  if (producer) producer->close(std::chrono::seconds(5));
}

void FailureHandler::provision_topics() {
  const auto& topics = topology_.topics_to_create();
  if (topics.empty()) return;
  AdminClient admin(AdminOptions{options_.cluster});  // one connection for all of them
  for (const auto& topic : topics) create_topic(admin, topic.name, topic.source);
}

FailureHandler::Outcome FailureHandler::handle(consumer::PartitionState& partition,
                                               std::span<const Record> records,
                                               std::exception_ptr error,
                                               const std::function<void()>& attempt_again) {
  const auto origin = topology_.origin_of(records.front().topic);
  const auto& policy = options_.policies.for_topic(origin.topic);
  if (std::holds_alternative<NoRetry>(policy)) {
    const auto failure = describe_failure(error);
    spdlog::error("handler failed on {} ({}: {}); no retry policy, moving on",
                  position_of(records), failure.type, failure.message);
    return Outcome::kDone;
  }
  if (is_non_retriable(error)) {
    return dead_letter(partition, records, describe_failure(error),
                       retry_attempt_of(records.front()) + 1);
  }
  if (const auto* blocking = std::get_if<BlockingRetry>(&policy)) {
    return retry_in_place(partition, records, error, *blocking, attempt_again);
  }
  return send_to_next_step(partition, records, error, std::get<RetryTopics>(policy));
}

FailureHandler::Outcome FailureHandler::retry_in_place(consumer::PartitionState& partition,
                                                       std::span<const Record> records,
                                                       std::exception_ptr error,
                                                       const BlockingRetry& policy,
                                                       const std::function<void()>& attempt_again) {
  const auto& key = partition.topic_partition();
  for (int attempt = 1;; ++attempt) {
    auto failure = describe_failure(error);
    if (is_non_retriable(error)) {
      control_.unblock(key);
      return dead_letter(partition, records, failure, attempt);
    }
    const auto delay = delay_before_retry(policy.back_off, attempt);
    if (!delay) {
      control_.unblock(key);
      return dead_letter(partition, records, failure, attempt);
    }
    options_.metrics.report(metrics::RetryScheduled{labels(records.front().topic), attempt});
    spdlog::warn("handler failed on {} (attempt {}: {}); retrying in {} ms, partition blocked",
                 position_of(records), attempt, failure.message, delay->count());
    RetryControl::WaitResult waited;
    {
      // The back-off may be long: the pool lends the other lanes a thread.
      consumer::WorkerPool::LongWait long_wait;
      waited = control_.wait_blocked(partition, records.front().offset, attempt, failure.message,
                                     *delay);
    }
    switch (waited) {
      case RetryControl::WaitResult::kStopping:
        return Outcome::kAbandoned;
      case RetryControl::WaitResult::kSkip:
        failure.message = "skipped by an operator after: " + failure.message;
        return dead_letter(partition, records, failure, attempt);
      case RetryControl::WaitResult::kElapsed:
        break;
    }
    try {
      attempt_again();
      control_.unblock(key);
      return Outcome::kRecovered;
    } catch (const RecordAbandoned&) {
      control_.unblock(key);
      return Outcome::kAbandoned;
    } catch (...) {
      error = std::current_exception();
    }
  }
}

FailureHandler::Outcome FailureHandler::send_to_next_step(consumer::PartitionState& partition,
                                                          std::span<const Record> records,
                                                          std::exception_ptr error,
                                                          const RetryTopics& policy) {
  const auto origin = topology_.origin_of(records.front().topic);
  const auto failure = describe_failure(error);
  const int attempt = origin.step + 1;
  if (origin.step >= static_cast<int>(policy.steps.size())) {
    return dead_letter(partition, records, failure, attempt);
  }
  CopyTarget target{RetryTopicNamer::retry_topic(origin.topic, options_.group, origin.step + 1),
                    attempt, policy.steps[static_cast<std::size_t>(origin.step)]};
  std::vector<ProducerRecord> copies;
  for (const auto& record : records) {
    copies.push_back(make_failure_copy(record, target, shortened(failure)));
  }
  const auto outcome = publish(partition, std::move(copies));
  if (outcome == Outcome::kDone) {
    options_.metrics.report(metrics::RetryScheduled{labels(origin.topic), attempt});
    spdlog::warn("handler failed on {} (attempt {}: {}); sent to {} for another try in {} ms",
                 position_of(records), attempt, failure.message, target.topic,
                 target.back_off->count());
  }
  return outcome;
}

FailureHandler::Outcome FailureHandler::dead_letter(consumer::PartitionState& partition,
                                                    std::span<const Record> records,
                                                    const FailureDescription& failure,
                                                    int attempts) {
  const auto origin = topology_.origin_of(records.front().topic);
  const auto topic = RetryTopicNamer::dead_letter_topic(origin.topic, options_.group);
  ensure_topic(topic, origin.topic);
  std::vector<ProducerRecord> copies;
  for (const auto& record : records) {
    copies.push_back(
        make_failure_copy(record, {topic, attempts, std::nullopt}, shortened(failure)));
  }
  const auto outcome = publish(partition, std::move(copies));
  if (outcome == Outcome::kDone) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      options_.metrics.report(metrics::RecordDeadLettered{labels(origin.topic)});
    }
    spdlog::error("{} sent to dead-letter topic {} after {} attempt(s): {}: {}",
                  position_of(records), topic, attempts, failure.type, failure.message);
  }
  return outcome;
}

FailureHandler::Outcome FailureHandler::publish(consumer::PartitionState& partition,
                                                std::vector<ProducerRecord> copies) {
  auto& sender = producer();
  std::vector<std::size_t> to_send(copies.size());
  for (std::size_t i = 0; i < copies.size(); ++i) to_send[i] = i;
  auto delay = kFirstResendDelay;
  for (;;) {
    auto deliveries = std::make_shared<Deliveries>();
    deliveries->outstanding = to_send.size();
    for (auto index : to_send) {
      sender.send(copies[index], [this, deliveries, index](const Result<RecordMetadata>& result) {
        {
          std::lock_guard lock(deliveries->mutex);
          if (!result) {
            deliveries->failed.push_back(index);
            deliveries->last_error = result.error().what();
          }
          --deliveries->outstanding;
        }
        control_.notify();
      });
    }
    const bool all_reported = control_.wait_until(partition, [&] {
      std::lock_guard lock(deliveries->mutex);
      return deliveries->outstanding == 0;
    });
    if (!all_reported) return Outcome::kAbandoned;
    {
      std::lock_guard lock(deliveries->mutex);
      if (deliveries->failed.empty()) return Outcome::kDone;
      to_send = deliveries->failed;
      spdlog::warn("{} of {} failure cop(ies) to {} not stored ({}); sending again in {} ms",
                   to_send.size(), copies.size(), copies.front().topic, deliveries->last_error,
                   delay.count());
    }
    // The record stays uncommitted until its copy is stored: never lost.
    if (!control_.wait(partition, delay)) return Outcome::kAbandoned;
    delay = std::min(delay * 2, kLongestResendDelay);
  }
}

bool FailureHandler::known(const std::string& topic) {
  std::lock_guard lock(mutex_);
  return known_topics_.contains(topic);
}

void FailureHandler::ensure_topic(const std::string& topic, const std::string& source) {
  if (known(topic)) return;
  AdminClient admin(AdminOptions{options_.cluster});
  create_topic(admin, topic, source);
}

void FailureHandler::create_topic(AdminClient& admin, const std::string& topic,
                                  const std::string& source) {
  if (known(topic)) return;
  const auto& settings = options_.policies.topic_settings;
  NewTopic new_topic{topic, settings.partitions, settings.replication_factor, {}};
  if (new_topic.partitions < 0 || new_topic.replication_factor < 0) {
    // As many as the topic the records come from.
    const auto described = admin.describe_topic(source);
    if (new_topic.partitions < 0) {
      new_topic.partitions = std::max<int>(1, static_cast<int>(described.partitions.size()));
    }
    if (new_topic.replication_factor < 0) {
      new_topic.replication_factor =
          described.partitions.empty()
              ? 1
              : std::max<int>(1, static_cast<int>(described.partitions.front().replicas.size()));
    }
  }
  if (settings.retention) {
    new_topic.configs["retention.ms"] = std::to_string(settings.retention->count());
  }
  admin.create_topic(new_topic, /*if_not_exists=*/true);
  std::lock_guard lock(mutex_);
  known_topics_.insert(topic);
}

Producer& FailureHandler::producer() {
  std::lock_guard lock(mutex_);
  if (!producer_) {
    ProducerOptions options;
    options.cluster = options_.cluster;
    // Fail a copy soon rather than after two minutes: it is sent again anyway.
    options.delivery_timeout = std::chrono::seconds(30);
    // Retry and dead-letter topics may be seconds old when first written to
    // (the consumer creates them as it starts), and librdkafka polls a topic
    // without a leader yet from 250 ms up, exponentially: the first copy
    // then waited about a second.
    options.cluster.librdkafka_properties.try_emplace("topic.metadata.refresh.fast.interval.ms",
                                                      "50");
    producer_ = std::make_unique<Producer>(std::move(options));
  }
  return *producer_;
}

metrics::ConsumerLabels FailureHandler::labels(const std::string& topic) const {
  return {topic, options_.group, options_.handler_name};
}

}  // namespace whippet::retry
