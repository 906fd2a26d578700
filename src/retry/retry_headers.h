#pragma once

// The headers a retried or dead-lettered copy carries, and reading them back.

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "whippet/record.h"

namespace whippet::retry {

// What went wrong, as it travels on the copy: the exception's type and text.
struct FailureDescription {
  std::string type;
  std::string message;
};

FailureDescription describe_failure(std::exception_ptr error);

// NonRetriableError, DeserializationError and a non-retriable
// ReportedFailure: retrying cannot help.
bool is_non_retriable(std::exception_ptr error);

struct CopyTarget {
  std::string topic;
  int attempt = 0;  // attempts made so far, the one that just failed included
  std::optional<std::chrono::milliseconds> back_off;  // retry copies only
};

// A copy of `record` for a retry or dead-letter topic: the same key, value
// and headers (earlier retry headers replaced), plus where the record came
// from originally (kept from the headers when `record` is itself a retry
// copy), the attempt count and the failure.
ProducerRecord make_failure_copy(const Record& record, const CopyTarget& target,
                                 const FailureDescription& failure);

// When a record read from a retry topic may be handled again
// (submitTimestamp + backOffTimeMs); none when the headers are missing or
// malformed, and then it is handled at once.
std::optional<std::chrono::system_clock::time_point> retry_due_time(const Record& record);

// Whether a header is one this module writes (and replaces on a new copy).
bool is_retry_header(std::string_view key);

// GH_RetryAttempt of a retry copy; 0 for a record that was never retried.
int retry_attempt_of(const Record& record);

}  // namespace whippet::retry
