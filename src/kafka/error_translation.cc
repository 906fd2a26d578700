#include "kafka/error_translation.h"

namespace whippet::kafka {

ErrorCode code_for(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return ErrorCode::kUnknownTopic;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return ErrorCode::kRecordTooLarge;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return ErrorCode::kTimeout;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      return ErrorCode::kBrokerUnreachable;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return ErrorCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return ErrorCode::kShutdown;
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
      return ErrorCode::kUnsupported;
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return ErrorCode::kNotFound;
    default:
      return ErrorCode::kKafka;
  }
}

namespace {

bool is_retriable(rd_kafka_resp_err_t err) {
  switch (code_for(err)) {
    case ErrorCode::kTimeout:
    case ErrorCode::kBrokerUnreachable:
      return true;
    default:
      return false;
  }
}

std::string describe(const std::string& what, const ErrorContext& context, const char* cause) {
  std::string text = what;
  if (!context.topic.empty()) {
    text += " (topic " + context.topic;
    if (context.partition) text += " partition " + std::to_string(*context.partition);
    text += ")";
  }
  if (!context.group.empty()) text += " (group " + context.group + ")";
  return text + ": " + cause;
}

}  // namespace

Error translate(rd_kafka_resp_err_t err, const std::string& what, ErrorContext context) {
  auto message = describe(what, context, rd_kafka_err2str(err));
  return Error(code_for(err), message, std::move(context), is_retriable(err));
}

Error translate(const rd_kafka_error_t* error, const std::string& what, ErrorContext context) {
  const auto err = rd_kafka_error_code(error);
  auto message = describe(what, context, rd_kafka_error_string(error));
  return Error(code_for(err), message, std::move(context),
               rd_kafka_error_is_retriable(error) != 0 || is_retriable(err));
}

}  // namespace whippet::kafka
