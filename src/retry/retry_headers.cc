#include "retry/retry_headers.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "common/type_name.h"
#include "kafka/record_conversion.h"
#include "whippet/retry.h"
#include "whippet/serde.h"

namespace whippet::retry {
namespace {

std::optional<int64_t> integer_header(const Record& record, std::string_view key) {
  const auto value = last_header(record.headers, key);
  if (!value || value->empty()) return std::nullopt;
  int64_t result = 0;
  const auto* end = value->data() + value->size();
  const auto [stop, error] = std::from_chars(value->data(), end, result);
  if (error != std::errc() || stop != end) return std::nullopt;
  return result;
}

}  // namespace

bool is_retry_header(std::string_view key) {
  using namespace retry_headers;
  for (auto name : {kSubmitTimestamp, kBackOffTimeMs, kOriginalTopic, kRetryAttempt,
                    kOriginalPartition, kOriginalOffset, kOriginalTimestamp, kErrorType,
                    kErrorMessage}) {
    if (key == name) return true;
  }
  return false;
}

FailureDescription describe_failure(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return {common::error_type_of(exception), exception.what()};
  } catch (...) {
    return {"unknown", "a non-standard exception"};
  }
}

bool is_non_retriable(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const NonRetriableError&) {
    return true;
  } catch (const DeserializationError&) {
    return true;
  } catch (const ReportedFailure& failure) {
    return !failure.retriable();
  } catch (...) {
    return false;
  }
}

ProducerRecord make_failure_copy(const Record& record, const CopyTarget& target,
                                 const FailureDescription& failure) {
  using namespace retry_headers;
  ProducerRecord copy;
  copy.topic = target.topic;
  copy.key = record.key;
  copy.value = record.value;
  copy.timestamp = record.timestamp;
  for (const auto& header : record.headers) {
    if (!is_retry_header(header.key)) copy.headers.push_back(header);
  }
  // A retry copy already says where the record came from: keep that.
  const bool is_copy = last_header(record.headers, kOriginalTopic).has_value();
  const auto original = [&](std::string_view key, std::string fallback) -> std::string {
    if (is_copy) {
      if (auto value = last_header(record.headers, key)) return *value;
    }
    return fallback;
  };
  auto add = [&](std::string_view key, std::string value) {
    copy.headers.push_back({std::string(key), std::move(value)});
  };
  add(kOriginalTopic, original(kOriginalTopic, record.topic));
  add(kOriginalPartition, original(kOriginalPartition, std::to_string(record.partition)));
  add(kOriginalOffset, original(kOriginalOffset, std::to_string(record.offset)));
  add(kOriginalTimestamp,
      original(kOriginalTimestamp,
               std::to_string(kafka::to_milliseconds(record.timestamp))));
  add(kRetryAttempt, std::to_string(target.attempt));
  add(kSubmitTimestamp, std::to_string(kafka::to_milliseconds(std::chrono::system_clock::now())));
  if (target.back_off) add(kBackOffTimeMs, std::to_string(target.back_off->count()));
  add(kErrorType, failure.type);
  add(kErrorMessage, failure.message);
  return copy;
}

std::optional<std::chrono::system_clock::time_point> retry_due_time(const Record& record) {
  const auto submitted = integer_header(record, retry_headers::kSubmitTimestamp);
  const auto back_off = integer_header(record, retry_headers::kBackOffTimeMs);
  if (!submitted || !back_off || *back_off < 0 || *submitted < 0) return std::nullopt;
  // Clamp hostile values rather than overflow.
  const auto due_ms = *submitted + std::min<int64_t>(*back_off, int64_t{1} << 40);
  return kafka::from_milliseconds(due_ms);
}

int retry_attempt_of(const Record& record) {
  const auto attempt = integer_header(record, retry_headers::kRetryAttempt);
  if (!attempt || *attempt < 0) return 0;
  return static_cast<int>(std::min<int64_t>(*attempt, 1 << 20));
}

}  // namespace whippet::retry
