#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The commit-metadata gap codec of the key-ordered parallel consumer.
//
// In parallel mode a partition's records complete out of order. Kafka only
// stores one committed offset per partition, so we commit the contiguous
// completed prefix P and carry the offsets above P that were already handled
// ("gaps") in the commit's metadata string. A new owner of the partition
// decodes them and skips those offsets instead of processing them twice.
//
// Text form:   "wg:" + base64url-without-padding(binary)
// Binary form: format byte, varint(position), varint(count), body
//   format byte: high nibble = version (1), low nibble = body kind
//     0x11 bitmap: bit i (LSB first within each byte) set <=> offset
//                  position + 1 + i was handled; the last byte is non-zero
//     0x12 runs:   pairs of varints (skip, length - 1) for the maximal runs
//                  of handled offsets [start, end), increasing; start is
//                  `next + skip` where `next` is position + 1 for the first
//                  run and the previous run's end + 1 afterwards (the offset
//                  `end` was not handled, or the runs would be one)
//   varints are unsigned LEB128 (at most 10 bytes). `count` is the number of
//   handled offsets; it lets the decoder detect truncated metadata, which
//   would otherwise often still parse (a shorter bitmap, fewer runs).
// The encoder writes whichever body is shorter. The metadata is text because
// Kafka stores it as a UTF-8 string limited (offset.metadata.max.bytes) to
// 4096 bytes by default; the prefix tells our metadata apart from what other
// clients write there (often "" or free text).
namespace whippet::consumer {

// How far above the committed position the consumer lets a partition's
// records complete before it stops dispatching further ones of it. Chosen so
// that the worst case encoding (a full bitmap over the window, 2753
// characters) is about 2/3 of the broker's default 4096 byte metadata limit:
// commits keep fitting on a broker whose limit was lowered somewhat.
inline constexpr int64_t kMaxGapSpan = 16384;

// The decoder refuses metadata describing offsets further than this above
// the committed position (and the encoder drops such offsets): generous
// compared to kMaxGapSpan so that a differently configured peer still
// interoperates, small enough that hostile metadata cannot make us allocate
// much (at most kMaxDecodedSpan offsets).
inline constexpr int64_t kMaxDecodedSpan = 4 * kMaxGapSpan;

// The marker our metadata starts with.
inline constexpr std::string_view kGapMetadataPrefix = "wg:";

// Upper bound of encode_gaps' length when every handled offset is at most
// `span` above the position: the bitmap body's worst case (encode_gaps never
// writes something longer than its bitmap). Lets the engine cap its window to
// stay inside the metadata budget. constexpr so the budget can be checked at
// compile time.
constexpr std::size_t max_encoded_size_for_span(int64_t span) {
  if (span <= 0) return 0;
  if (span > kMaxDecodedSpan) span = kMaxDecodedSpan;  // encode_gaps drops the rest
  const std::size_t binary = 1 /* format */ + 10 /* varint position */ +
                             3 /* varint count <= kMaxDecodedSpan */ +
                             static_cast<std::size_t>((span + 7) / 8);
  return kGapMetadataPrefix.size() + (binary * 4 + 2) / 3;  // base64 without padding
}

static_assert(max_encoded_size_for_span(kMaxGapSpan) <= 4096 * 3 / 4,
              "the gap window must stay well inside offset.metadata.max.bytes");

// Encodes the offsets handled above `position` (the committed offset).
// `handled_above` must be strictly increasing and all > position. Returns ""
// when there is nothing to record. Never throws on bad input: if the
// preconditions do not hold (or position is negative or so close to INT64_MAX
// that the window would overflow) it returns "" too, which is safe: the new
// owner reprocesses those offsets (at-least-once), it never skips one that was
// not handled. Offsets more than kMaxDecodedSpan above the position are left
// out for the same reason.
std::string encode_gaps(int64_t position, std::span<const int64_t> handled_above);

// Result of decoding commit metadata.
struct DecodedGaps {
  enum class Status {
    kOk,         // `handled` holds the offsets to skip (possibly none)
    kForeign,    // not written by us (another client, or free text)
    kStale,      // ours, but for another committed position: ignore the gaps
    kMalformed,  // ours by prefix, but corrupt, truncated, an unknown version or out of limits
  };
  Status status = Status::kOk;
  std::vector<int64_t> handled;  // strictly increasing, all > the committed position
  std::string problem;           // why it was not understood, for a log line; empty when ok

  bool ok() const { return status == Status::kOk; }
};

// Decodes metadata committed with `committed_position`. Empty metadata is ok
// with no offsets: it is what encode_gaps writes when there are no gaps (and
// what most other clients write), and either way there is nothing to skip.
// Anything not understood yields no offsets and a problem, never an exception
// or an out-of-bounds read: the metadata may be arbitrary bytes.
DecodedGaps decode_gaps(int64_t committed_position, std::string_view metadata);

}  // namespace whippet::consumer
