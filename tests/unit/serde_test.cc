#include <string>

#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>

#include "whippet/handler.h"
#include "whippet/serde.h"

namespace whippet {
namespace {

using namespace std::string_literals;

TEST(StringSerdeTest, RoundTripsUtf8IncludingZeroBytes) {
  const StringSerde serde;
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x90\x95 a\0b"s;
  EXPECT_EQ(serde.deserialize(serde.serialize(text)), text);
  EXPECT_EQ(serde.deserialize(""), "");
}

TEST(StringSerdeTest, RejectsInvalidUtf8) {
  const StringSerde serde;
  const std::string invalid[] = {
      "\xC3"s,              // truncated sequence
      "\xC0\xAF"s,          // overlong encoding
      "\xED\xA0\x80"s,      // UTF-16 surrogate
      "\xF4\x90\x80\x80"s,  // above U+10FFFF
      "ok\xFF"s,            // never valid
      "\xE2\x28\xA1"s,      // bad continuation
  };
  for (const auto& bytes : invalid) {
    EXPECT_THROW(static_cast<void>(serde.deserialize(bytes)), DeserializationError) << bytes;
    EXPECT_THROW(static_cast<void>(serde.serialize(bytes)), Error) << bytes;
  }
}

TEST(StringSerdeTest, ErrorNamesTheOffendingByte) {
  try {
    static_cast<void>(StringSerde{}.deserialize("abc\xFF"s));
    FAIL() << "expected DeserializationError";
  } catch (const DeserializationError& error) {
    EXPECT_EQ(error.code(), ErrorCode::kSerialization);
    EXPECT_FALSE(error.retriable());
    EXPECT_NE(std::string(error.what()).find("byte 3"), std::string::npos) << error.what();
  }
}

TEST(JsonSerdeTest, RoundTrips) {
  const JsonSerde serde;
  const nlohmann::json value = {{"id", 7}, {"tags", {"a", "b"}}, {"nested", {{"ok", true}}}};
  EXPECT_EQ(serde.deserialize(serde.serialize(value)), value);
}

TEST(JsonSerdeTest, MalformedJsonIsADeserializationError) {
  const JsonSerde serde;
  for (const auto& bytes : {"{\"id\": "s, "not json"s, ""s, "{\"a\":1}}"s, "\xFF"s}) {
    EXPECT_THROW(static_cast<void>(serde.deserialize(bytes)), DeserializationError) << bytes;
  }
}

TEST(ProtobufSerdeTest, RoundTripsAWellKnownType) {
  const ProtobufSerde<google::protobuf::Timestamp> serde;
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(1700000000);
  timestamp.set_nanos(42);
  const auto back = serde.deserialize(serde.serialize(timestamp));
  EXPECT_EQ(back.seconds(), 1700000000);
  EXPECT_EQ(back.nanos(), 42);
}

TEST(ProtobufSerdeTest, MalformedBytesAreADeserializationError) {
  const ProtobufSerde<google::protobuf::Timestamp> serde;
  // A length-delimited field claiming 5 bytes with only 2 present, and a
  // varint that never ends.
  for (const auto& bytes : {"\x0A\x05" "ab"s, "\x08\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"s}) {
    EXPECT_THROW(static_cast<void>(serde.deserialize(bytes)), DeserializationError);
  }
}

TEST(DeserializingHandlerTest, PassesTypedValueAndRejectsBadBytes) {
  std::string seen;
  const Handler handler = deserializing(StringSerde{}, [&](const std::string& value, const Record&) {
    seen = value;
  });
  Record record;
  record.value = "hello";
  handler(record);
  EXPECT_EQ(seen, "hello");
  record.value = "\xFF"s;
  EXPECT_THROW(handler(record), DeserializationError);
  record.value.reset();
  EXPECT_THROW(handler(record), DeserializationError);
}

}  // namespace
}  // namespace whippet
