#include "admin_api_json.h"

namespace whippet::cli {
namespace {

// ErrorCode values are contiguous from kUnknownTopic to kKafka, the last.
ErrorCode code_from_name(const std::string& name) {
  for (int value = 0; value <= static_cast<int>(ErrorCode::kKafka); ++value) {
    const auto code = static_cast<ErrorCode>(value);
    if (to_string(code) == name) return code;
  }
  return ErrorCode::kKafka;
}

}  // namespace

nlohmann::json error_to_json(const Error& error) {
  nlohmann::json json{{"error", error.what()},
                      {"code", std::string(to_string(error.code()))},
                      {"retriable", error.retriable()}};
  if (!error.context().topic.empty()) json["topic"] = error.context().topic;
  if (error.context().partition) json["partition"] = *error.context().partition;
  if (!error.context().group.empty()) json["group"] = error.context().group;
  return json;
}

Error error_from_json(const std::string& body, const std::string& fallback) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("error")) return Error(ErrorCode::kKafka, fallback);
  ErrorContext context;
  context.topic = json.value("topic", "");
  if (json.contains("partition")) context.partition = json["partition"].get<int32_t>();
  context.group = json.value("group", "");
  return Error(code_from_name(json.value("code", "")), json.value("error", fallback),
               std::move(context), json.value("retriable", false));
}

nlohmann::json group_to_json(const GroupListing& group) {
  return {{"group_id", group.group_id},
          {"state", group.state},
          {"protocol_type", group.protocol_type}};
}

GroupListing group_from_json(const nlohmann::json& json) {
  return {json.at("group_id").get<std::string>(), json.value("state", ""),
          json.value("protocol_type", "")};
}

nlohmann::json lag_to_json(const PartitionLag& lag) {
  nlohmann::json json{{"topic", lag.topic_partition.topic},
                      {"partition", lag.topic_partition.partition},
                      {"committed_offset", nullptr},
                      {"committed_metadata", lag.committed_metadata},
                      {"high_watermark", lag.high_watermark},
                      {"lag", lag.lag}};
  if (lag.committed_offset) json["committed_offset"] = *lag.committed_offset;
  return json;
}

PartitionLag lag_from_json(const nlohmann::json& json) {
  PartitionLag lag;
  lag.topic_partition = {json.at("topic").get<std::string>(), json.at("partition").get<int32_t>()};
  if (!json.at("committed_offset").is_null()) {
    lag.committed_offset = json["committed_offset"].get<int64_t>();
  }
  lag.committed_metadata = json.value("committed_metadata", "");
  lag.high_watermark = json.at("high_watermark").get<int64_t>();
  lag.lag = json.at("lag").get<int64_t>();
  return lag;
}

}  // namespace whippet::cli
