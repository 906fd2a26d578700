#include <iterator>
#include <set>
#include <string_view>

#include <gtest/gtest.h>

#include "whippet/error.h"
#include "whippet/record.h"
#include "whippet/result.h"

namespace whippet {
namespace {

TEST(ErrorTest, CarriesCodeContextAndRetriability) {
  ErrorContext context;
  context.topic = "orders";
  context.partition = 3;
  const Error error(ErrorCode::kTimeout, "took too long", context, true);
  EXPECT_EQ(error.code(), ErrorCode::kTimeout);
  EXPECT_STREQ(error.what(), "took too long");
  EXPECT_EQ(error.context().topic, "orders");
  EXPECT_EQ(error.context().partition, 3);
  EXPECT_TRUE(error.retriable());
}

TEST(ErrorTest, EveryCodeHasADistinctName) {
  const ErrorCode codes[] = {
      ErrorCode::kUnknownTopic, ErrorCode::kRecordTooLarge,   ErrorCode::kTimeout,
      ErrorCode::kBrokerUnreachable, ErrorCode::kInvalidArgument, ErrorCode::kInvalidConfig,
      ErrorCode::kSerialization, ErrorCode::kShutdown,       ErrorCode::kUnsupported,
      ErrorCode::kNotFound,     ErrorCode::kKafka};
  std::set<std::string_view> names;
  for (const auto code : codes) names.insert(to_string(code));
  EXPECT_EQ(names.size(), std::size(codes));
  EXPECT_EQ(to_string(ErrorCode::kUnknownTopic), "unknown topic");
}

TEST(ResultTest, HoldsValueOrThrowsItsError) {
  const Result<int> good(7);
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 7);
  const Result<int> bad(Error(ErrorCode::kShutdown, "closed"));
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kShutdown);
  EXPECT_THROW(static_cast<void>(bad.value()), Error);
}

TEST(LastHeaderTest, ReturnsTheLastOfRepeatedKeys) {
  const Headers headers = {{"a", "1"}, {"b", std::nullopt}, {"a", "2"}, {"c", ""}};
  EXPECT_EQ(last_header(headers, "a"), std::optional<Bytes>("2"));
  EXPECT_EQ(last_header(headers, "c"), std::optional<Bytes>(""));
  EXPECT_EQ(last_header(headers, "missing"), std::nullopt);
}

TEST(LastHeaderTest, NullValuedLastHeaderIsNull) {
  const Headers headers = {{"a", "1"}, {"a", std::nullopt}};
  EXPECT_EQ(last_header(headers, "a"), std::nullopt);
}

}  // namespace
}  // namespace whippet
