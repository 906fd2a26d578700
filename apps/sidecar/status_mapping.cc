#include "status_mapping.h"

namespace whippet::sidecar {

grpc::StatusCode status_code_of(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kUnknownTopic:
    case ErrorCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::kRecordTooLarge:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kSerialization:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::kTimeout:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case ErrorCode::kBrokerUnreachable:
    case ErrorCode::kShutdown:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::kUnsupported:
      return grpc::StatusCode::UNIMPLEMENTED;
    case ErrorCode::kKafka:
      return error.retriable() ? grpc::StatusCode::UNAVAILABLE : grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status to_status(const Error& error) {
  return {status_code_of(error),
          "[" + v1::ErrorCode_Name(to_proto(error.code())) + "] " + error.what()};
}

grpc::Status invalid_argument(const std::string& message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, message};
}

v1::ErrorCode to_proto(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownTopic: return v1::UNKNOWN_TOPIC;
    case ErrorCode::kRecordTooLarge: return v1::RECORD_TOO_LARGE;
    case ErrorCode::kTimeout: return v1::TIMEOUT;
    case ErrorCode::kBrokerUnreachable: return v1::BROKER_UNREACHABLE;
    case ErrorCode::kInvalidArgument: return v1::INVALID_ARGUMENT;
    case ErrorCode::kInvalidConfig: return v1::INVALID_CONFIG;
    case ErrorCode::kSerialization: return v1::SERIALIZATION;
    case ErrorCode::kShutdown: return v1::SHUTDOWN;
    case ErrorCode::kUnsupported: return v1::UNSUPPORTED;
    case ErrorCode::kNotFound: return v1::NOT_FOUND;
    case ErrorCode::kKafka: return v1::KAFKA;
  }
  return v1::ERROR_CODE_UNSPECIFIED;
}

void fill_error(const Error& error, v1::Error* message) {
  message->set_code(to_proto(error.code()));
  message->set_message(error.what());
  message->set_retriable(error.retriable());
}

}  // namespace whippet::sidecar
