#pragma once

// Catching the whippet::Error a call is expected to throw, for tests that
// then check its code and message.

#include <future>
#include <string>

#include <gtest/gtest.h>

#include "whippet/config.h"
#include "whippet/error.h"
#include "whippet/producer.h"

namespace whippet::testing {

// The message of the kInvalidConfig error `parse` throws for `text`; a test
// failure when it throws nothing or another code.
template <class Parse>
std::string invalid_config(Parse parse, const std::string& text) {
  try {
    parse(text);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidConfig) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "expected kInvalidConfig for:\n" << text;
  return "";
}

// The message of the kInvalidConfig error parse_config throws for `yaml`.
inline std::string config_error(const std::string& yaml) {
  return invalid_config([](const std::string& text) { return parse_config(text); }, yaml);
}

// The error a send's future holds; a test failure when it holds a value.
inline Error error_of(std::future<RecordMetadata>& future) {
  try {
    future.get();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected an error";
  return Error(ErrorCode::kKafka, "no error");
}

}  // namespace whippet::testing
