#include "whippet/error.h"

#include <utility>

namespace whippet {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownTopic:
      return "unknown topic";
    case ErrorCode::kRecordTooLarge:
      return "record too large";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kBrokerUnreachable:
      return "broker unreachable";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kInvalidConfig:
      return "invalid config";
    case ErrorCode::kSerialization:
      return "serialization";
    case ErrorCode::kShutdown:
      return "shutdown";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kKafka:
      return "kafka";
  }
  // Reached only with a value cast from an integer outside the enum.
  return "unknown error code";
}

Error::Error(ErrorCode code, const std::string& message, ErrorContext context, bool retriable)
    : std::runtime_error(message),
      code_(code),
      context_(std::move(context)),
      retriable_(retriable) {}

}  // namespace whippet
