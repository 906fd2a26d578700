#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace whippet {

// What went wrong, coarse enough for callers to branch on.
enum class ErrorCode {
  kUnknownTopic,       // the topic does not exist and will not be auto-created
  kRecordTooLarge,     // larger than the producer's or broker's size limit
  kTimeout,            // the operation did not finish within its configured timeout
  kBrokerUnreachable,  // no broker answered (wrong address, cluster down)
  kInvalidArgument,    // the caller passed something unusable
  kInvalidConfig,      // an option or librdkafka property was rejected
  kSerialization,      // a value could not be serialised or deserialised
  kShutdown,           // the client is closing or closed
  kUnsupported,        // the cluster (e.g. the embedded mock) cannot do this
  kNotFound,           // a group, topic or partition that was asked about is absent
  kKafka,              // any other error reported by librdkafka or the broker
};

std::string_view to_string(ErrorCode code);

// Which topic, partition or group an error concerns, when it concerns one.
struct ErrorContext {
  std::string topic;
  std::optional<int32_t> partition;
  std::string group;

  static ErrorContext of_topic(std::string topic, std::optional<int32_t> partition = {}) {
    ErrorContext context;
    context.topic = std::move(topic);
    context.partition = partition;
    return context;
  }
  static ErrorContext of_group(std::string group) {
    ErrorContext context;
    context.group = std::move(group);
    return context;
  }
};

// The one exception type of the SDK. It says what failed, what it concerns,
// and whether trying again later may succeed.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, ErrorContext context = {},
        bool retriable = false);

  ErrorCode code() const noexcept { return code_; }
  const ErrorContext& context() const noexcept { return context_; }
  bool retriable() const noexcept { return retriable_; }

 private:
  ErrorCode code_;
  ErrorContext context_;
  bool retriable_;
};

}  // namespace whippet
