#include "record_format.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace whippet::cli {
namespace {

// Length of the valid UTF-8 sequence starting at `position`, or 0 when the
// bytes there are not one (overlong forms and surrogates included).
std::size_t utf8_sequence_length(std::string_view bytes, std::size_t position) {
  const auto byte = [&](std::size_t index) { return static_cast<unsigned char>(bytes[index]); };
  const unsigned char lead = byte(position);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // overlong
    if (lead == 0xED) second_high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // overlong
    if (lead == 0xF4) second_high = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (position + length > bytes.size()) return 0;
  if (byte(position + 1) < second_low || byte(position + 1) > second_high) return 0;
  for (std::size_t index = 2; index < length; ++index) {
    if ((byte(position + index) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Adds `name` (and "<name>_encoding": "base64" when needed) to `json`.
void add_bytes(nlohmann::ordered_json& json, const std::string& name,
               const std::optional<Bytes>& bytes) {
  if (!bytes) {
    json[name] = nullptr;
  } else if (is_valid_utf8(*bytes)) {
    json[name] = *bytes;
  } else {
    json[name] = base64_encode(*bytes);
    json[name + "_encoding"] = "base64";
  }
}

std::string format_json(const Record& record) {
  const auto milliseconds = std::chrono::duration_cast<std::chrono::milliseconds>(
      record.timestamp.time_since_epoch());
  // ordered_json keeps the fields in this, the reading, order.
  nlohmann::ordered_json json{{"topic", record.topic},
                              {"partition", record.partition},
                              {"offset", record.offset},
                              {"timestamp", milliseconds.count()}};
  add_bytes(json, "key", record.key);
  add_bytes(json, "value", record.value);
  auto headers = nlohmann::ordered_json::array();
  for (const auto& header : record.headers) {
    nlohmann::ordered_json entry{{"key", escape_text(header.key)}};
    add_bytes(entry, "value", header.value);
    headers.push_back(std::move(entry));
  }
  json["headers"] = std::move(headers);
  return json.dump();
}

std::string format_text(const Record& record) {
  std::string line = fmt::format("{}/{}@{} key={}", record.topic, record.partition, record.offset,
                                 record.key ? escape_text(*record.key) : "(none)");
  if (!record.headers.empty()) {
    line += " [";
    for (std::size_t index = 0; index < record.headers.size(); ++index) {
      const auto& header = record.headers[index];
      if (index > 0) line += ' ';
      line += escape_text(header.key) + "=" +
              (header.value ? escape_text(*header.value) : "(null)");
    }
    line += ']';
  }
  line += ' ';
  line += record.value ? escape_text(*record.value) : "(null)";
  return line;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t position = 0; position < bytes.size();) {
    const auto length = utf8_sequence_length(bytes, position);
    if (length == 0) return false;
    position += length;
  }
  return true;
}

std::string escape_text(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  for (std::size_t position = 0; position < bytes.size();) {
    const auto byte = static_cast<unsigned char>(bytes[position]);
    const auto length = utf8_sequence_length(bytes, position);
    if (byte == '\\') {
      text += "\\\\";
    } else if (byte == '\n') {
      text += "\\n";
    } else if (byte == '\t') {
      text += "\\t";
    } else if (length == 0 || byte < 0x20 || byte == 0x7F) {
      text += fmt::format("\\x{:02x}", byte);
    } else {
      text.append(bytes.substr(position, length));
      position += length;
      continue;
    }
    ++position;
  }
  return text;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t position = 0; position < bytes.size(); position += 3) {
    const auto remaining = bytes.size() - position;
    uint32_t group = static_cast<unsigned char>(bytes[position]) << 16;
    if (remaining > 1) group |= static_cast<unsigned char>(bytes[position + 1]) << 8;
    if (remaining > 2) group |= static_cast<unsigned char>(bytes[position + 2]);
    encoded += kAlphabet[(group >> 18) & 0x3F];
    encoded += kAlphabet[(group >> 12) & 0x3F];
    encoded += remaining > 1 ? kAlphabet[(group >> 6) & 0x3F] : '=';
    encoded += remaining > 2 ? kAlphabet[group & 0x3F] : '=';
  }
  return encoded;
}

std::string format_record(const Record& record, OutputFormat format) {
  return format == OutputFormat::kJson ? format_json(record) : format_text(record);
}

}  // namespace whippet::cli
