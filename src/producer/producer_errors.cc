#include "producer/producer_errors.h"

#include <optional>

namespace whippet::producer {

ErrorContext context_of(const std::string& topic, int32_t partition) {
  return ErrorContext::of_topic(topic, partition >= 0 ? std::optional<int32_t>(partition) : std::nullopt);
}

Error record_too_large(const std::string& topic, std::size_t size, std::size_t limit) {
  return Error(ErrorCode::kRecordTooLarge,
               "record of " + std::to_string(size) + " bytes for topic " + topic +
                   " exceeds max_record_bytes (" + std::to_string(limit) + ")",
               ErrorContext::of_topic(topic));
}

Error shutdown_error(const std::string& topic) {
  return Error(ErrorCode::kShutdown, "producer is closed: record for topic " + topic + " not sent",
               ErrorContext::of_topic(topic));
}

Result<RecordMetadata> with_attempts(Result<RecordMetadata> outcome, int attempts) {
  if (outcome.ok() || attempts <= 1) return outcome;
  const auto& error = outcome.error();
  return Error(error.code(),
               std::string(error.what()) + " (gave up after " + std::to_string(attempts) +
                   " attempts)",
               error.context(), error.retriable());
}

Error closed_while_retrying(const std::string& topic, int attempts,
                            const std::string& last_error) {
  return Error(ErrorCode::kShutdown,
               "producer closed before the record for topic " + topic + " was sent again (" +
                   std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts") +
                   " made, last error: " + last_error + ")",
               ErrorContext::of_topic(topic));
}

}  // namespace whippet::producer
