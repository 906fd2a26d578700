#pragma once

// The errors the producer decides itself, on a sending thread or on the
// delivery thread, worded the same wherever they arise.

#include <cstddef>
#include <cstdint>
#include <string>

#include "whippet/error.h"
#include "whippet/record.h"
#include "whippet/result.h"

namespace whippet::producer {

// The topic, and the partition when one is known (>= 0).
ErrorContext context_of(const std::string& topic, int32_t partition);

Error record_too_large(const std::string& topic, std::size_t size, std::size_t limit);

Error shutdown_error(const std::string& topic);

// A final error of a record that was sent more than once says so.
Result<RecordMetadata> with_attempts(Result<RecordMetadata> outcome, int attempts);

Error closed_while_retrying(const std::string& topic, int attempts,
                            const std::string& last_error);

}  // namespace whippet::producer
