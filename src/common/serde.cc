#include "whippet/serde.h"

#include <cstddef>
#include <cstdint>

namespace whippet {
namespace {

// Returns the offset of the first byte that breaks UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos when the
// whole text is valid.
std::size_t first_invalid_utf8_byte(const std::string& text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t index = 0;
  while (index < size) {
    const unsigned char lead = bytes[index];
    if (lead < 0x80) {
      ++index;
      continue;
    }
    std::size_t length = 0;
    // The allowed range of the second byte depends on the lead byte; this is
    // what rules out overlong encodings and surrogates without decoding.
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead == 0xE0) {
      length = 3;
      second_min = 0xA0;
    } else if (lead >= 0xE1 && lead <= 0xEC) {
      length = 3;
    } else if (lead == 0xED) {
      length = 3;
      second_max = 0x9F;
    } else if (lead >= 0xEE && lead <= 0xEF) {
      length = 3;
    } else if (lead == 0xF0) {
      length = 4;
      second_min = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      length = 4;
    } else if (lead == 0xF4) {
      length = 4;
      second_max = 0x8F;
    } else {
      return index;
    }
    if (index + length > size) return index;
    if (bytes[index + 1] < second_min || bytes[index + 1] > second_max) return index;
    for (std::size_t continuation = 2; continuation < length; ++continuation) {
      if ((bytes[index + continuation] & 0xC0) != 0x80) return index;
    }
    index += length;
  }
  return std::string::npos;
}

void require_utf8(const std::string& text, const char* what) {
  const auto position = first_invalid_utf8_byte(text);
  if (position != std::string::npos) {
    throw DeserializationError(std::string(what) + ": invalid UTF-8 at byte " +
                               std::to_string(position) + " of " + std::to_string(text.size()));
  }
}

}  // namespace

Bytes StringSerde::serialize(const std::string& value) const {
  // Checked on the way out too, so that no producer writes text that every
  // consumer of the topic would then reject.
  const auto position = first_invalid_utf8_byte(value);
  if (position != std::string::npos) {
    throw Error(ErrorCode::kSerialization, "cannot serialise string: invalid UTF-8 at byte " +
                                               std::to_string(position) + " of " +
                                               std::to_string(value.size()));
  }
  return value;
}

std::string StringSerde::deserialize(const Bytes& bytes) const {
  require_utf8(bytes, "cannot deserialise string");
  return bytes;
}

nlohmann::json JsonSerde::deserialize(const Bytes& bytes) const {
  try {
    return nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& error) {
    // nlohmann's message names the byte position; keep it, and the size, so
    // that a bad record can be found in a dump.
    throw DeserializationError("malformed JSON (" + std::to_string(bytes.size()) +
                               " bytes): " + error.what());
  }
}

}  // namespace whippet
