#include "consumer/gap_codec.h"

#include <array>
#include <limits>
#include <optional>
#include <utility>

namespace whippet::consumer {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kKindBitmap = 1;
constexpr uint8_t kKindRuns = 2;
constexpr uint8_t format_byte(uint8_t kind) { return static_cast<uint8_t>(kVersion << 4 | kind); }

// The largest position whose window [position + 1, position + kMaxDecodedSpan]
// is representable, so that no offset arithmetic below can overflow.
constexpr int64_t kMaxPosition = std::numeric_limits<int64_t>::max() - kMaxDecodedSpan - 1;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

std::size_t varint_size(uint64_t value) {
  std::size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

void append_base64url(std::string& out, std::string_view binary) {
  std::size_t i = 0;
  for (; i + 3 <= binary.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(binary[i])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(binary[i + 1])) << 8 |
                       static_cast<uint32_t>(static_cast<uint8_t>(binary[i + 2]));
    out.push_back(kAlphabet[v >> 18 & 63]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.push_back(kAlphabet[v >> 6 & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = binary.size() - i;
  if (rest == 0) return;
  uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(binary[i])) << 16;
  if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(binary[i + 1])) << 8;
  out.push_back(kAlphabet[v >> 18 & 63]);
  out.push_back(kAlphabet[v >> 12 & 63]);
  if (rest == 2) out.push_back(kAlphabet[v >> 6 & 63]);
}

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecodeTable = make_decode_table();

// Strict: only the alphabet, no padding, and the unused low bits of the last
// character must be zero (so every binary has exactly one text form).
std::optional<std::string> decode_base64url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const int8_t value = kDecodeTable[static_cast<uint8_t>(c)];
    if (value < 0) return std::nullopt;
    bits = (bits << 6 | static_cast<uint32_t>(value)) & 0xffffff;
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16 & 0xff));
      out.push_back(static_cast<char>(bits >> 8 & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      count = 0;
    }
  }
  if (count == 2) {  // 12 bits: one byte and 4 zero bits
    if ((bits & 0xf) != 0) return std::nullopt;
    out.push_back(static_cast<char>(bits >> 4 & 0xff));
  } else if (count == 3) {  // 18 bits: two bytes and 2 zero bits
    if ((bits & 0x3) != 0) return std::nullopt;
    out.push_back(static_cast<char>(bits >> 10 & 0xff));
    out.push_back(static_cast<char>(bits >> 2 & 0xff));
  }
  return out;
}

// Reads bytes of an untrusted buffer; every read is bounds checked.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }

  std::optional<uint8_t> byte() {
    if (pos_ >= data_.size()) return std::nullopt;
    return static_cast<uint8_t>(data_[pos_++]);
  }

  // Unsigned LEB128 of at most 10 bytes whose value fits 64 bits.
  std::optional<uint64_t> varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto b = byte();
      if (!b) return std::nullopt;
      const uint64_t payload = *b & 0x7f;
      if (shift == 63 && payload > 1) return std::nullopt;  // bits beyond 64
      value |= payload << shift;
      if ((*b & 0x80) == 0) return value;
    }
    return std::nullopt;  // an 11th byte would be needed
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

DecodedGaps failure(DecodedGaps::Status status, std::string problem) {
  DecodedGaps result;
  result.status = status;
  result.problem = std::move(problem);
  return result;
}

DecodedGaps malformed(std::string what) {
  return failure(DecodedGaps::Status::kMalformed, "malformed gap metadata: " + std::move(what));
}

DecodedGaps decode_bitmap(int64_t position, std::size_t count, Reader& reader) {
  const std::size_t bytes = reader.remaining();
  if (bytes == 0) return malformed("empty bitmap");
  if (bytes > static_cast<std::size_t>((kMaxDecodedSpan + 7) / 8)) {
    return malformed("bitmap longer than the decoding limit");
  }
  DecodedGaps result;
  result.handled.reserve(count);
  for (std::size_t i = 0; i < bytes; ++i) {
    const uint8_t b = *reader.byte();
    if (i + 1 == bytes && b == 0) return malformed("bitmap ends with a zero byte");
    for (int bit = 0; bit < 8; ++bit) {
      if ((b >> bit & 1) == 0) continue;
      const int64_t index = static_cast<int64_t>(i) * 8 + bit;
      if (index >= kMaxDecodedSpan) return malformed("bitmap beyond the decoding limit");
      if (result.handled.size() == count) return malformed("more offsets than counted");
      result.handled.push_back(position + 1 + index);
    }
  }
  if (result.handled.size() != count) return malformed("fewer offsets than counted (truncated?)");
  return result;
}

DecodedGaps decode_runs(int64_t position, std::size_t count, Reader& reader) {
  if (reader.done()) return malformed("no runs");
  // All offsets must lie in [position + 1, limit]; position <= kMaxPosition,
  // so none of this arithmetic overflows.
  const int64_t limit = position + kMaxDecodedSpan;
  int64_t next = position + 1;
  DecodedGaps result;
  result.handled.reserve(count);
  while (!reader.done()) {
    const auto skip = reader.varint();
    if (!skip) return malformed("truncated or oversized run skip");
    const auto extra = reader.varint();
    if (!extra) return malformed("truncated or oversized run length");
    // The offsets still available are [next, limit]; next <= limit + 2.
    if (next > limit) return malformed("run beyond the decoding limit");
    const auto room = static_cast<uint64_t>(limit - next + 1);
    if (*skip >= room || *extra >= room - *skip) {
      return malformed("run beyond the decoding limit");
    }
    const int64_t start = next + static_cast<int64_t>(*skip);
    const int64_t end = start + static_cast<int64_t>(*extra) + 1;  // <= limit + 1
    if (static_cast<uint64_t>(end - start) > count - result.handled.size()) {
      return malformed("more offsets than counted");
    }
    for (int64_t offset = start; offset < end; ++offset) result.handled.push_back(offset);
    next = end + 1;
  }
  if (result.handled.size() != count) return malformed("fewer offsets than counted (truncated?)");
  return result;
}

}  // namespace

std::string encode_gaps(int64_t position, std::span<const int64_t> handled_above) {
  if (handled_above.empty() || position < 0 || position > kMaxPosition) return {};
  // Validate, and keep the prefix that fits in the decodable window.
  const int64_t limit = position + kMaxDecodedSpan;
  std::size_t count = 0;
  int64_t previous = position;
  for (const int64_t offset : handled_above) {
    if (offset <= previous) return {};  // not increasing, or not above position
    if (offset > limit) break;
    previous = offset;
    ++count;
  }
  if (count == 0) return {};
  const auto offsets = handled_above.first(count);

  // Size both bodies, then write the smaller.
  const int64_t span = offsets.back() - position;
  const std::size_t bitmap_size = static_cast<std::size_t>((span + 7) / 8);
  std::size_t runs_size = 0;
  int64_t next = position + 1;
  for (std::size_t i = 0; i < count;) {
    std::size_t j = i + 1;
    while (j < count && offsets[j] == offsets[j - 1] + 1) ++j;
    runs_size += varint_size(static_cast<uint64_t>(offsets[i] - next)) +
                 varint_size(static_cast<uint64_t>(j - i - 1));
    next = offsets[j - 1] + 2;
    i = j;
  }

  std::string binary;
  const bool bitmap = bitmap_size <= runs_size;
  binary.reserve(14 + (bitmap ? bitmap_size : runs_size));
  binary.push_back(static_cast<char>(format_byte(bitmap ? kKindBitmap : kKindRuns)));
  put_varint(binary, static_cast<uint64_t>(position));
  put_varint(binary, count);
  if (bitmap) {
    const std::size_t header = binary.size();
    binary.resize(header + bitmap_size, '\0');
    for (const int64_t offset : offsets) {
      const auto index = static_cast<std::size_t>(offset - position - 1);
      binary[header + index / 8] =
          static_cast<char>(static_cast<uint8_t>(binary[header + index / 8]) | 1u << (index % 8));
    }
  } else {
    next = position + 1;
    for (std::size_t i = 0; i < count;) {
      std::size_t j = i + 1;
      while (j < count && offsets[j] == offsets[j - 1] + 1) ++j;
      put_varint(binary, static_cast<uint64_t>(offsets[i] - next));
      put_varint(binary, static_cast<uint64_t>(j - i - 1));
      next = offsets[j - 1] + 2;
      i = j;
    }
  }

  std::string text(kGapMetadataPrefix);
  text.reserve(kGapMetadataPrefix.size() + (binary.size() * 4 + 2) / 3);
  append_base64url(text, binary);
  return text;
}

DecodedGaps decode_gaps(int64_t committed_position, std::string_view metadata) {
  if (metadata.empty()) return {};
  if (!metadata.starts_with(kGapMetadataPrefix)) {
    return failure(DecodedGaps::Status::kForeign, "commit metadata not written by whippet");
  }
  const auto binary = decode_base64url(metadata.substr(kGapMetadataPrefix.size()));
  if (!binary) return malformed("not base64url");
  Reader reader(*binary);
  const auto format = reader.byte();
  if (!format) return malformed("no format byte");
  if ((*format >> 4) != kVersion) {
    return malformed("unsupported format version " + std::to_string(*format >> 4));
  }
  const auto position = reader.varint();
  if (!position) return malformed("truncated or oversized position");
  if (*position > static_cast<uint64_t>(kMaxPosition)) return malformed("position out of range");
  if (committed_position < 0 || static_cast<uint64_t>(committed_position) != *position) {
    return failure(DecodedGaps::Status::kStale,
                   "gap metadata is for position " + std::to_string(*position) +
                       ", not the committed position " + std::to_string(committed_position));
  }
  const auto count = reader.varint();
  if (!count) return malformed("truncated or oversized count");
  if (*count == 0 || *count > static_cast<uint64_t>(kMaxDecodedSpan)) {
    return malformed("count out of range");
  }
  const auto n = static_cast<std::size_t>(*count);
  switch (*format & 0xf) {
    case kKindBitmap:
      return decode_bitmap(committed_position, n, reader);
    case kKindRuns:
      return decode_runs(committed_position, n, reader);
    default:
      return malformed("unknown body kind " + std::to_string(*format & 0xf));
  }
}

}  // namespace whippet::consumer
