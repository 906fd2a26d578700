#pragma once

#include <concepts>
#include <string>

#include <google/protobuf/message_lite.h>
#include <nlohmann/json.hpp>

#include "whippet/error.h"
#include "whippet/record.h"

namespace whippet {

// Thrown when bytes cannot become a value. Never worth retrying: the same
// bytes fail the same way.
class DeserializationError : public Error {
 public:
  explicit DeserializationError(const std::string& message)
      : Error(ErrorCode::kSerialization, message, {}, false) {}
};

// A serde turns values of its Value type into bytes and back.
template <class S>
concept Serde = requires(const S serde, const typename S::Value& value, const Bytes& bytes) {
  { serde.serialize(value) } -> std::convertible_to<Bytes>;
  { serde.deserialize(bytes) } -> std::convertible_to<typename S::Value>;
};

struct BytesSerde {
  using Value = Bytes;
  Bytes serialize(const Bytes& value) const { return value; }
  Bytes deserialize(const Bytes& bytes) const { return bytes; }
};

// UTF-8 text; invalid UTF-8 is rejected rather than passed on.
struct StringSerde {
  using Value = std::string;
  Bytes serialize(const std::string& value) const;
  std::string deserialize(const Bytes& bytes) const;
};

struct JsonSerde {
  using Value = nlohmann::json;
  Bytes serialize(const nlohmann::json& value) const { return value.dump(); }
  nlohmann::json deserialize(const Bytes& bytes) const;
};

// Protobuf's binary wire format for one message type.
template <class Message>
  requires std::derived_from<Message, google::protobuf::MessageLite>
struct ProtobufSerde {
  using Value = Message;

  Bytes serialize(const Message& value) const {
    Bytes bytes;
    if (!value.SerializeToString(&bytes)) {
      throw Error(ErrorCode::kSerialization,
                  "cannot serialise " + value.GetTypeName() + ": required fields missing");
    }
    return bytes;
  }

  Message deserialize(const Bytes& bytes) const {
    Message message;
    if (!message.ParseFromString(bytes)) {
      throw DeserializationError("malformed " + message.GetTypeName() + " (" +
                                 std::to_string(bytes.size()) + " bytes)");
    }
    return message;
  }
};

}  // namespace whippet
