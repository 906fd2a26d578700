#include "consumer/gap_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace whippet::consumer {
namespace {

using Status = DecodedGaps::Status;

// Test-side base64url, written independently of the codec, to look inside
// what it writes and to craft hostile metadata.
constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64(const std::vector<uint8_t>& bytes) {
  std::string out;
  uint32_t bits = 0;
  int held = 0;
  for (const uint8_t b : bytes) {
    bits = bits << 8 | b;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kB64[bits >> held & 63]);
    }
  }
  if (held > 0) out.push_back(kB64[bits << (6 - held) & 63]);
  return out;
}

std::vector<uint8_t> unb64(std::string_view text) {
  std::vector<uint8_t> out;
  uint32_t bits = 0;
  int held = 0;
  for (const char c : text) {
    const auto index = kB64.find(c);
    EXPECT_NE(index, std::string_view::npos) << "character " << int(c);
    bits = bits << 6 | static_cast<uint32_t>(index);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<uint8_t>(bits >> held));
    }
  }
  return out;
}

// encode_gaps with a vector, so tests can pass braced lists.
std::string encode(int64_t position, const std::vector<int64_t>& handled) {
  return encode_gaps(position, handled);
}

std::string ours(const std::vector<uint8_t>& bytes) { return "wg:" + b64(bytes); }

void varint(std::vector<uint8_t>& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

// The binary behind a codec output (without the "wg:" marker).
std::vector<uint8_t> binary_of(const std::string& text) {
  EXPECT_TRUE(text.starts_with("wg:")) << text;
  return unb64(std::string_view(text).substr(3));
}

std::vector<int64_t> range(int64_t from, int64_t to, int64_t step = 1) {
  std::vector<int64_t> out;
  for (int64_t o = from; o < to; o += step) out.push_back(o);
  return out;
}

void expect_round_trip(int64_t position, const std::vector<int64_t>& handled) {
  const std::string text = encode_gaps(position, handled);
  if (handled.empty()) {
    EXPECT_EQ(text, "");
  } else {
    EXPECT_FALSE(text.empty());
  }
  const DecodedGaps decoded = decode_gaps(position, text);
  ASSERT_TRUE(decoded.ok()) << decoded.problem << " for " << text;
  EXPECT_EQ(decoded.problem, "");
  EXPECT_EQ(decoded.handled, handled) << text;
}

TEST(GapCodecTest, EmptyEncodesToEmptyAndEmptyDecodesToNothing) {
  EXPECT_EQ(encode(100, {}), "");
  const DecodedGaps decoded = decode_gaps(100, "");
  EXPECT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded.handled.empty());
}

TEST(GapCodecTest, RoundTripsSingleOffsets) {
  expect_round_trip(0, {1});
  expect_round_trip(0, {2});
  expect_round_trip(41, {42});
  expect_round_trip(41, {41 + kMaxGapSpan});
  expect_round_trip(5'000'000'000'000, {5'000'000'000'007});
  expect_round_trip(1000, {1000 + kMaxDecodedSpan});  // the last decodable offset
}

TEST(GapCodecTest, RoundTripsDenseRuns) {
  expect_round_trip(10, range(11, 12));
  expect_round_trip(10, range(11, 20));
  expect_round_trip(10, range(12, 5000));
  expect_round_trip(0, range(1, kMaxGapSpan + 1));
  expect_round_trip(7, range(1000, 1000 + kMaxGapSpan));
}

TEST(GapCodecTest, RoundTripsSparseSets) {
  expect_round_trip(100, {101, 500, 9000, 100 + kMaxGapSpan});
  expect_round_trip(100, range(150, 100 + kMaxGapSpan, 997));
  expect_round_trip(0, range(2, kMaxGapSpan, 2));  // every other offset
  expect_round_trip(0, range(1, kMaxGapSpan, 2));
  expect_round_trip(123, range(125, 123 + kMaxGapSpan, 3));
}

TEST(GapCodecTest, RoundTripsAlternatingRunPatterns) {
  for (const int on : {1, 2, 3, 7, 8, 9, 100}) {
    for (const int off : {1, 2, 5, 8, 127, 128, 300}) {
      std::vector<int64_t> handled;
      int64_t offset = 1000 + 1 + off;
      while (offset + on < 1000 + kMaxGapSpan) {
        for (int i = 0; i < on; ++i) handled.push_back(offset + i);
        offset += on + off;
      }
      SCOPED_TRACE(testing::Message() << "on " << on << " off " << off);
      expect_round_trip(1000, handled);
    }
  }
}

TEST(GapCodecTest, RoundTripsRandomSetsAcrossSizesAndDensities) {
  std::mt19937_64 rng(20240611);
  for (const int64_t span : std::vector<int64_t>{1, 2, 7, 8, 9, 63, 64, 65, 1000, 4096, kMaxGapSpan}) {
    for (const double density : {0.001, 0.05, 0.3, 0.5, 0.9, 0.999}) {
      for (int round = 0; round < 5; ++round) {
        const int64_t position = static_cast<int64_t>(rng() % 1'000'000'000'000);
        std::bernoulli_distribution take(density);
        std::vector<int64_t> handled;
        for (int64_t o = position + 1; o <= position + span; ++o) {
          if (take(rng)) handled.push_back(o);
        }
        SCOPED_TRACE(testing::Message() << "span " << span << " density " << density);
        expect_round_trip(position, handled);
        EXPECT_LE(encode_gaps(position, handled).size(), max_encoded_size_for_span(span));
      }
    }
  }
}

TEST(GapCodecTest, PicksRunsForADenseRunAndTheBitmapForASparseSet) {
  // 10000 consecutive offsets: two small varints instead of a 1250 byte bitmap.
  const std::string dense = encode_gaps(1'000'000, range(1'000'002, 1'010'002));
  EXPECT_EQ(binary_of(dense).at(0), 0x12);
  EXPECT_LT(dense.size(), 20u);

  // Every other offset over 1000: a 125 byte bitmap instead of 500 runs of 2 bytes.
  const std::string sparse = encode_gaps(1'000'000, range(1'000'002, 1'001'002, 2));
  const auto binary = binary_of(sparse);
  EXPECT_EQ(binary.at(0), 0x11);
  EXPECT_LE(binary.size(), 1u + 3u + 2u + 125u);
  EXPECT_GE(binary.size(), 125u);

  // Few far apart offsets: runs again.
  const std::string few = encode(0, {10, 5000, 16000});
  EXPECT_EQ(binary_of(few).at(0), 0x12);
  EXPECT_LT(few.size(), 30u);
}

TEST(GapCodecTest, EncodedFormIsAsDocumented) {
  // position 5, offsets 6, 8, 9: bitmap bits 0, 2, 3 = 0x0d (1 byte) versus
  // runs (0,0)(1,1) (4 bytes).
  EXPECT_EQ(binary_of(encode(5, {6, 8, 9})), (std::vector<uint8_t>{0x11, 5, 3, 0x0d}));
  // position 300 (varint ac 02), offsets 302..401: one run, skip 1, length-1 99.
  EXPECT_EQ(binary_of(encode_gaps(300, range(302, 402))),
            (std::vector<uint8_t>{0x12, 0xac, 0x02, 100, 1, 99}));
}

TEST(GapCodecTest, AnySetInsideTheWindowFitsTheBudget) {
  const std::size_t bound = max_encoded_size_for_span(kMaxGapSpan);
  EXPECT_LT(bound, 4096u);
  EXPECT_LE(bound, 4096u * 3 / 4);
  // The position as large as Kafka offsets get in practice, to maximise its varint.
  const int64_t position = int64_t{1} << 62;
  const std::vector<std::vector<int64_t>> worst = {
      range(position + 1, position + kMaxGapSpan + 1, 2),  // every other: bitmap worst case
      range(position + 2, position + kMaxGapSpan + 1, 2),
      range(position + 1, position + kMaxGapSpan + 1, 3),
      range(position + 2, position + kMaxGapSpan + 1, 4),
      {position + kMaxGapSpan},
  };
  std::size_t largest = 0;
  for (const auto& handled : worst) {
    const std::string text = encode_gaps(position, handled);
    EXPECT_LE(text.size(), bound);
    largest = std::max(largest, text.size());
    expect_round_trip(position, handled);
  }
  // The every-other pattern fills the bitmap, so it is close to the bound.
  EXPECT_GE(largest + 16, bound);
  std::printf("gap metadata: worst case %zu bytes at kMaxGapSpan %lld (bound %zu)\n", largest,
              static_cast<long long>(kMaxGapSpan), bound);
}

TEST(GapCodecTest, MaxEncodedSizeGrowsWithTheSpan) {
  EXPECT_EQ(max_encoded_size_for_span(0), 0u);
  EXPECT_LT(max_encoded_size_for_span(8), max_encoded_size_for_span(800));
  EXPECT_LT(max_encoded_size_for_span(kMaxGapSpan), max_encoded_size_for_span(2 * kMaxGapSpan));
  EXPECT_GT(max_encoded_size_for_span(kMaxGapSpan), static_cast<std::size_t>(kMaxGapSpan / 8 * 4 / 3));
}

TEST(GapCodecTest, OutputIsPrintableAscii) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    const auto position = static_cast<int64_t>(rng() % 1'000'000'000);
    std::vector<int64_t> handled;
    for (int64_t o = position + 1; o < position + 3000; ++o) {
      if (rng() % (1 + round % 7) == 0) handled.push_back(o);
    }
    const std::string text = encode_gaps(position, handled);
    ASSERT_TRUE(text.starts_with("wg:"));
    for (const char c : text.substr(3)) {
      EXPECT_NE(kB64.find(c), std::string_view::npos) << "character " << int(c);
    }
  }
}

TEST(GapCodecTest, EncoderReturnsNothingForInputBreakingItsPreconditions) {
  EXPECT_EQ(encode(10, {10}), "");       // not above the position
  EXPECT_EQ(encode(10, {5, 12}), "");    // below the position
  EXPECT_EQ(encode(10, {12, 11}), "");   // decreasing
  EXPECT_EQ(encode(10, {12, 12}), "");   // repeated
  EXPECT_EQ(encode(-1, {3}), "");        // no committed position
  EXPECT_EQ(encode(INT64_MAX - 1, {INT64_MAX}), "");
  EXPECT_EQ(encode(0, {kMaxDecodedSpan + 1}), "");  // beyond the decodable window
}

TEST(GapCodecTest, EncoderLeavesOutOffsetsBeyondTheDecodableWindow) {
  const std::string text = encode(0, {1, 3, kMaxDecodedSpan, kMaxDecodedSpan + 1});
  const DecodedGaps decoded = decode_gaps(0, text);
  ASSERT_TRUE(decoded.ok()) << decoded.problem;
  EXPECT_EQ(decoded.handled, (std::vector<int64_t>{1, 3, kMaxDecodedSpan}));
}

TEST(GapCodecTest, RefusesGapsOfAnotherPosition) {
  const std::string text = encode(500, {502, 503});
  for (const int64_t other : {int64_t{499}, int64_t{501}, int64_t{0}, int64_t{-1}}) {
    const DecodedGaps decoded = decode_gaps(other, text);
    EXPECT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status, Status::kStale);
    EXPECT_TRUE(decoded.handled.empty());
    EXPECT_NE(decoded.problem.find("500"), std::string::npos) << decoded.problem;
  }
  EXPECT_TRUE(decode_gaps(500, text).ok());
}

TEST(GapCodecTest, RecognisesForeignMetadata) {
  for (const std::string_view text :
       {"hello", "{\"app\":\"java\"}", "wg", "w1:AAAA", "WG:EQUD", " wg:EQUD", "\xff\xfe"}) {
    const DecodedGaps decoded = decode_gaps(5, text);
    EXPECT_EQ(decoded.status, Status::kForeign) << text;
    EXPECT_TRUE(decoded.handled.empty());
    EXPECT_FALSE(decoded.problem.empty());
  }
}

TEST(GapCodecTest, RefusesEveryTruncation) {
  std::mt19937_64 rng(99);
  std::vector<int64_t> sparse;
  for (int64_t o = 1001; o < 1400; ++o) {
    if (rng() % 2) sparse.push_back(o);
  }
  for (const auto& handled : {sparse, range(1002, 1100), std::vector<int64_t>{1005, 1010, 1300},
                              range(1001, 1300, 2)}) {
    const std::string text = encode_gaps(1000, handled);
    ASSERT_TRUE(decode_gaps(1000, text).ok());
    for (std::size_t length = 1; length < text.size(); ++length) {
      const DecodedGaps decoded = decode_gaps(1000, std::string_view(text).substr(0, length));
      EXPECT_FALSE(decoded.ok()) << "prefix of length " << length << " of " << text;
      EXPECT_TRUE(decoded.handled.empty());
      EXPECT_FALSE(decoded.problem.empty());
    }
  }
}

TEST(GapCodecTest, RefusesMalformedBodies) {
  const auto malformed = [](const std::vector<uint8_t>& bytes) {
    const DecodedGaps decoded = decode_gaps(5, ours(bytes));
    EXPECT_EQ(decoded.status, Status::kMalformed) << ours(bytes);
    EXPECT_TRUE(decoded.handled.empty());
    EXPECT_FALSE(decoded.problem.empty());
  };
  // The well-formed baseline the cases below break.
  ASSERT_TRUE(decode_gaps(5, ours({0x11, 5, 3, 0x0d})).ok());
  ASSERT_TRUE(decode_gaps(5, ours({0x12, 5, 3, 0, 0, 1, 1})).ok());

  malformed({});                             // no format byte
  malformed({0x21, 5, 3, 0x0d});             // version 2
  malformed({0x01, 5, 3, 0x0d});             // version 0
  malformed({0x13, 5, 3, 0x0d});             // unknown kind
  malformed({0x11, 5, 3});                   // no bitmap
  malformed({0x11, 5, 3, 0x0d, 0x00});       // bitmap ending in a zero byte
  malformed({0x11, 5, 2, 0x0d});             // count too small
  malformed({0x11, 5, 4, 0x0d});             // count too large
  malformed({0x11, 5, 0, 0x0d});             // zero count
  malformed({0x12, 5, 3});                   // no runs
  malformed({0x12, 5, 3, 0, 0, 1});          // half a pair
  malformed({0x12, 5, 3, 0, 0, 1, 2});       // more offsets than counted
  malformed({0x12, 5, 4, 0, 0, 1, 1});       // fewer offsets than counted
  malformed({0x12, 5, 3, 0, 0x80});          // truncated varint

  // Not base64url: padding, other alphabets, stray bytes, non-zero trailing bits.
  for (const std::string_view text : {"wg:EQUDDQ==", "wg:EQUD+Q", "wg:EQUD/Q", "wg:EQU DQ",
                                      "wg:EQUDDR", "wg:E", "wg:EQUDD\n", "wg:\x80\x80"}) {
    EXPECT_EQ(decode_gaps(5, text).status, Status::kMalformed) << text;
  }
  EXPECT_TRUE(decode_gaps(5, "wg:EQUDDQ").ok());  // the baseline, as text
}

TEST(GapCodecTest, RefusesHugeVarintsAndDecodingBombs) {
  const auto malformed = [](const std::vector<uint8_t>& bytes, int64_t position = 5) {
    const DecodedGaps decoded = decode_gaps(position, ours(bytes));
    EXPECT_EQ(decoded.status, Status::kMalformed) << ours(bytes);
    EXPECT_TRUE(decoded.handled.empty());
  };
  // An 11 byte varint, and a 10 byte one with more than 64 bits.
  std::vector<uint8_t> eleven = {0x11};
  for (int i = 0; i < 10; ++i) eleven.push_back(0xff);
  eleven.push_back(0x01);
  malformed(eleven);
  malformed({0x11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 1, 1});
  // Bits beyond 64 that a careless decoder would drop, leaving a matching 5.
  malformed({0x11, 0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 1, 1});
  ASSERT_TRUE(decode_gaps(5, ours({0x11, 0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x00, 1, 1}))
                  .ok());  // the same, overlong but in range, is a 5
  // A position near INT64_MAX, where offset arithmetic would overflow.
  {
    std::vector<uint8_t> bytes = {0x12};
    varint(bytes, static_cast<uint64_t>(INT64_MAX) - 3);
    bytes.insert(bytes.end(), {1, 0, 0});
    malformed(bytes, INT64_MAX - 3);
  }
  // Huge counts, skips and lengths.
  {
    std::vector<uint8_t> bytes = {0x12, 5};
    varint(bytes, UINT64_MAX);
    bytes.insert(bytes.end(), {0, 0});
    malformed(bytes);
  }
  {
    std::vector<uint8_t> bytes = {0x12, 5};
    varint(bytes, static_cast<uint64_t>(kMaxDecodedSpan) + 1);
    bytes.insert(bytes.end(), {0});
    varint(bytes, static_cast<uint64_t>(kMaxDecodedSpan));  // length kMaxDecodedSpan + 1
    malformed(bytes);
  }
  {
    std::vector<uint8_t> bytes = {0x12, 5, 1};
    varint(bytes, UINT64_MAX);  // skip
    bytes.push_back(0);
    malformed(bytes);
  }
  {
    std::vector<uint8_t> bytes = {0x12, 5, 2};
    varint(bytes, static_cast<uint64_t>(kMaxDecodedSpan) - 1);  // lands on the last offset
    bytes.push_back(0);
    bytes.insert(bytes.end(), {0, 0});  // then one past the window
    malformed(bytes);
  }
  {
    std::vector<uint8_t> bytes = {0x12, 5, 2, 0};
    varint(bytes, UINT64_MAX - 5);  // length overflowing int64
    malformed(bytes);
  }
  // The whole window, as runs, is fine; one more offset is refused.
  {
    std::vector<uint8_t> bytes = {0x12, 5};
    varint(bytes, static_cast<uint64_t>(kMaxDecodedSpan));
    bytes.push_back(0);
    varint(bytes, static_cast<uint64_t>(kMaxDecodedSpan) - 1);
    const DecodedGaps decoded = decode_gaps(5, ours(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.problem;
    EXPECT_EQ(decoded.handled.size(), static_cast<std::size_t>(kMaxDecodedSpan));
    EXPECT_EQ(decoded.handled.back(), 5 + kMaxDecodedSpan);
  }
  // A bitmap longer than the window.
  {
    std::vector<uint8_t> bytes = {0x11, 5};
    varint(bytes, 1);
    bytes.resize(bytes.size() + static_cast<std::size_t>(kMaxDecodedSpan / 8));
    bytes.push_back(1);
    malformed(bytes);
  }
}

TEST(GapCodecTest, RandomGarbageNeverCrashesAndIsNeverTrusted) {
  std::mt19937_64 rng(4242);
  int decoded_ok = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bytes(rng() % 40);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    if (round % 2 == 0 && !bytes.empty()) bytes[0] = (round % 4 == 0) ? 0x11 : 0x12;
    if (round % 3 == 0 && bytes.size() > 1) bytes[1] = 5;  // matching position
    const DecodedGaps from_binary = decode_gaps(5, ours(bytes));
    // Raw random text after the marker, too (any byte value).
    std::string raw = "wg:";
    for (std::size_t i = rng() % 40; i > 0; --i) raw.push_back(static_cast<char>(rng()));
    const DecodedGaps from_text = decode_gaps(5, raw);
    for (const DecodedGaps* decoded : {&from_binary, &from_text}) {
      if (decoded->ok()) {
        ++decoded_ok;
        // Whatever is accepted obeys the contract.
        for (std::size_t i = 0; i < decoded->handled.size(); ++i) {
          EXPECT_GT(decoded->handled[i], i == 0 ? 5 : decoded->handled[i - 1]);
        }
        EXPECT_LE(decoded->handled.back(), 5 + kMaxDecodedSpan);
        EXPECT_FALSE(decoded->handled.empty());
      } else {
        EXPECT_TRUE(decoded->handled.empty());
        EXPECT_FALSE(decoded->problem.empty());
      }
    }
  }
  // Garbage almost never passes the format, position and count checks.
  EXPECT_LT(decoded_ok, 200);
}

}  // namespace
}  // namespace whippet::consumer
