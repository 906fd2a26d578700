#include "tracing/random_ids.h"

#include <array>
#include <cstdint>
#include <random>

namespace whippet::tracing {
namespace {

// One generator per thread: no lock on the send path. random_device is only
// read once per thread, to seed it; a seed_seq spreads those bits over the
// whole Mersenne Twister state.
std::mt19937_64& generator() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::array<std::uint32_t, 8> seed_words{};
    for (auto& word : seed_words) word = device();
    std::seed_seq seed(seed_words.begin(), seed_words.end());
    return std::mt19937_64(seed);
  }();
  return engine;
}

void append_hex(std::string& out, std::uint64_t value) {
  constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) {
    out.push_back(kDigits[(value >> shift) & 0xf]);
  }
}

// `words` 64-bit words of randomness, drawn again in the (astronomically
// unlikely) case that all of them are zero.
std::string random_hex(int words) {
  auto& engine = generator();
  for (;;) {
    std::string id;
    id.reserve(static_cast<std::size_t>(words) * 16);
    bool all_zero = true;
    for (int word = 0; word < words; ++word) {
      const std::uint64_t value = engine();
      all_zero = all_zero && value == 0;
      append_hex(id, value);
    }
    if (!all_zero) return id;
  }
}

}  // namespace

std::string random_trace_id() { return random_hex(2); }

std::string random_span_id() { return random_hex(1); }

}  // namespace whippet::tracing
