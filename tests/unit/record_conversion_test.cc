#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "kafka/record_conversion.h"

namespace whippet::kafka {
namespace {

using namespace std::string_literals;

TEST(RecordConversionTest, HeadersKeepOrderRepeatedKeysNullsAndZeroBytes) {
  const Headers headers = {
      {"trace", "a"}, {"empty", ""}, {"null", std::nullopt}, {"trace", "b\0c"s}, {"trace", "d"}};
  const auto kafka_headers = to_kafka_headers(headers);
  ASSERT_EQ(rd_kafka_header_cnt(kafka_headers.get()), headers.size());
  for (std::size_t index = 0; index < headers.size(); ++index) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    ASSERT_EQ(rd_kafka_header_get_all(kafka_headers.get(), index, &name, &value, &size),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(name, headers[index].key);
    if (headers[index].value) {
      ASSERT_NE(value, nullptr) << index;
      EXPECT_EQ(std::string(static_cast<const char*>(value), size), *headers[index].value);
    } else {
      EXPECT_EQ(value, nullptr) << index;
    }
  }
}

TEST(RecordConversionTest, EmptyHeaderListConverts) {
  EXPECT_EQ(rd_kafka_header_cnt(to_kafka_headers({}).get()), 0u);
}

TEST(RecordConversionTest, TimestampsRoundTripAtMillisecondPrecision) {
  const auto now = std::chrono::system_clock::now();
  const auto milliseconds = to_milliseconds(now);
  EXPECT_EQ(to_milliseconds(from_milliseconds(milliseconds)), milliseconds);
  EXPECT_EQ(from_milliseconds(0), Timestamp{});
  EXPECT_EQ(to_milliseconds(from_milliseconds(1700000000123)), 1700000000123);
  EXPECT_LE(now - from_milliseconds(milliseconds), std::chrono::milliseconds(1));
}

}  // namespace
}  // namespace whippet::kafka
