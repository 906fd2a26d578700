// RecordFilter: which records a subscriber wants (every condition given must
// hold; a repeated header key counts by its last value).

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "record_filter.h"

namespace whippet::fanout {
namespace {

Record record(std::optional<Bytes> key, Headers headers = {}) {
  Record record;
  record.topic = "orders";
  record.key = std::move(key);
  record.value = "v";
  record.headers = std::move(headers);
  return record;
}

RecordFilter headers_only(std::vector<HeaderCondition> headers) {
  return RecordFilter(std::move(headers), {}, std::nullopt);
}

TEST(RecordFilter, AnEmptyFilterMatchesEverything) {
  const RecordFilter filter;
  EXPECT_TRUE(filter.empty());
  EXPECT_EQ(filter.describe(), "all records");
  EXPECT_TRUE(filter.matches(record("k")));
  EXPECT_TRUE(filter.matches(record(std::nullopt)));
  EXPECT_TRUE(filter.matches(record("k", {{"kind", std::nullopt}})));
}

TEST(RecordFilter, HeaderPresent) {
  const auto filter = headers_only({{"kind", std::nullopt}});
  EXPECT_FALSE(filter.empty());
  EXPECT_TRUE(filter.matches(record("k", {{"kind", "a"}})));
  EXPECT_TRUE(filter.matches(record("k", {{"kind", std::nullopt}}))) << "a null value is present";
  EXPECT_TRUE(filter.matches(record("k", {{"other", "x"}, {"kind", ""}})));
  EXPECT_FALSE(filter.matches(record("k")));
  EXPECT_FALSE(filter.matches(record("k", {{"other", "kind"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"Kind", "a"}}))) << "keys are case-sensitive";
  EXPECT_FALSE(filter.matches(record("k", {{"kin", "a"}})));
}

TEST(RecordFilter, HeaderValue) {
  const auto filter = headers_only({{"kind", Bytes("a")}});
  EXPECT_TRUE(filter.matches(record("k", {{"kind", "a"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"kind", "b"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"kind", "ab"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"kind", std::nullopt}}))) << "null is not \"a\"";
  EXPECT_FALSE(filter.matches(record("k", {{"other", "a"}})));
  EXPECT_FALSE(filter.matches(record("k")));

  const auto empty_value = headers_only({{"kind", Bytes("")}});
  EXPECT_TRUE(empty_value.matches(record("k", {{"kind", ""}})));
  EXPECT_FALSE(empty_value.matches(record("k", {{"kind", std::nullopt}})))
      << "an empty value is not a null one";

  const auto binary = headers_only({{"kind", Bytes("a\0b", 3)}});
  EXPECT_TRUE(binary.matches(record("k", {{"kind", Bytes("a\0b", 3)}})));
  EXPECT_FALSE(binary.matches(record("k", {{"kind", "a"}}))) << "compared as bytes, not C strings";
}

TEST(RecordFilter, TheLastValueOfARepeatedHeaderKeyWins) {
  const auto filter = headers_only({{"kind", Bytes("a")}});
  EXPECT_TRUE(filter.matches(record("k", {{"kind", "b"}, {"kind", "a"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"kind", "a"}, {"kind", "b"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"kind", "a"}, {"other", "x"}, {"kind", std::nullopt}})));
  EXPECT_TRUE(filter.matches(record("k", {{"kind", std::nullopt}, {"other", "x"}, {"kind", "a"}})));
}

TEST(RecordFilter, AllHeaderConditionsMustHold) {
  const auto filter = headers_only({{"kind", Bytes("a")}, {"region", std::nullopt}});
  EXPECT_TRUE(filter.matches(record("k", {{"region", "eu"}, {"kind", "a"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"kind", "a"}})));
  EXPECT_FALSE(filter.matches(record("k", {{"region", "eu"}, {"kind", "b"}})));
}

TEST(RecordFilter, KeysSet) {
  const RecordFilter filter({}, {"alice", "bob"}, std::nullopt);
  EXPECT_TRUE(filter.matches(record("alice")));
  EXPECT_TRUE(filter.matches(record("bob")));
  EXPECT_FALSE(filter.matches(record("carol")));
  EXPECT_FALSE(filter.matches(record("alic")));
  EXPECT_FALSE(filter.matches(record("alice2")));
  EXPECT_FALSE(filter.matches(record("")));
  EXPECT_FALSE(filter.matches(record(std::nullopt))) << "a null key is none of the keys";
}

TEST(RecordFilter, KeyPrefix) {
  const RecordFilter filter({}, {}, Bytes("eu-"));
  EXPECT_TRUE(filter.matches(record("eu-")));
  EXPECT_TRUE(filter.matches(record("eu-west")));
  EXPECT_FALSE(filter.matches(record("us-east")));
  EXPECT_FALSE(filter.matches(record("eu")));
  EXPECT_FALSE(filter.matches(record("xeu-")));
  EXPECT_FALSE(filter.matches(record(std::nullopt))) << "a null key has no prefix";
}

TEST(RecordFilter, NullKeyPassesWhenNoKeyConditionIsGiven) {
  const auto filter = headers_only({{"kind", Bytes("a")}});
  EXPECT_TRUE(filter.matches(record(std::nullopt, {{"kind", "a"}})));
}

TEST(RecordFilter, CombinedConditionsMustAllHold) {
  const RecordFilter filter({{"kind", Bytes("a")}}, {"eu-1", "eu-2", "us-1"}, Bytes("eu-"));
  EXPECT_TRUE(filter.matches(record("eu-1", {{"kind", "a"}})));
  EXPECT_TRUE(filter.matches(record("eu-2", {{"kind", "b"}, {"kind", "a"}})));
  EXPECT_FALSE(filter.matches(record("us-1", {{"kind", "a"}}))) << "in the set, not the prefix";
  EXPECT_FALSE(filter.matches(record("eu-3", {{"kind", "a"}}))) << "the prefix, not in the set";
  EXPECT_FALSE(filter.matches(record("eu-1", {{"kind", "b"}}))) << "the wrong header value";
  EXPECT_FALSE(filter.matches(record("eu-1"))) << "no header";
  EXPECT_FALSE(filter.matches(record(std::nullopt, {{"kind", "a"}})));
  EXPECT_NE(filter.describe(), "all records");
}

}  // namespace
}  // namespace whippet::fanout
