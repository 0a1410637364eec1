#include "trace/trace_context.h"

#include <cstring>
#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace archway::trace {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Digit values by byte: 0..15, or -1. Lower case only (W3C HEXDIGLC), and a second table that
// also takes upper case (ids typed into the Admin API).
struct HexTables {
  std::int8_t lower[256];
  std::int8_t any[256];
  char pairs[512];  // byte -> its two lower-case digits
  constexpr HexTables() : lower(), any(), pairs() {
    for (int i = 0; i < 256; ++i) lower[i] = any[i] = -1;
    for (int i = 0; i < 10; ++i) lower['0' + i] = any['0' + i] = static_cast<std::int8_t>(i);
    for (int i = 0; i < 6; ++i) {
      lower['a' + i] = any['a' + i] = static_cast<std::int8_t>(10 + i);
      any['A' + i] = static_cast<std::int8_t>(10 + i);
    }
    for (int i = 0; i < 256; ++i) {
      pairs[2 * i] = kHex[i >> 4];
      pairs[2 * i + 1] = kHex[i & 0x0f];
    }
  }
};
constexpr HexTables kTables;

// Decodes hex.size() / 2 bytes; false on any non-digit (checked once at the end: no branch per
// character).
bool decodeBytes(const std::int8_t (&table)[256], std::string_view hex, std::uint8_t* out) {
  int bad = 0;
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = table[static_cast<unsigned char>(hex[2 * i])];
    const int lo = table[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<std::uint8_t>(hi << 4 | (lo & 0x0f));
  }
  return bad >= 0;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, good enough for ids that only
// need to be unique, not secret.
struct Xoshiro {
  std::uint64_t s[4];
  Xoshiro() {
    std::random_device rd;
    std::uint64_t seed = (std::uint64_t{rd()} << 32) ^ rd();
    for (auto& w : s) w = splitmix64(seed);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

Xoshiro& rng() {
  thread_local Xoshiro g;
  return g;
}

void putU64(std::uint64_t v, std::uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace

std::optional<TraceParent> parseTraceparent(std::string_view value) {
  value = trimOws(value);
  if (value.size() < kTraceparentSize) return std::nullopt;
  std::uint8_t version = 0;
  if (!decodeBytes(kTables.lower, value.substr(0, 2), &version) || version == 0xff) {
    return std::nullopt;
  }
  if (version == 0 && value.size() != kTraceparentSize) return std::nullopt;
  if (value.size() > kTraceparentSize && value[kTraceparentSize] != '-') return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  TraceParent tp;
  std::uint8_t parent[8];
  if (!decodeBytes(kTables.lower, value.substr(3, 32), tp.traceId.data()) ||
      !decodeBytes(kTables.lower, value.substr(36, 16), parent) ||
      !decodeBytes(kTables.lower, value.substr(53, 2), &tp.flags)) {
    return std::nullopt;
  }
  for (auto b : parent) tp.parentId = tp.parentId << 8 | b;
  if (isZero(tp.traceId) || tp.parentId == 0) return std::nullopt;
  return tp;
}

#if defined(__SSE2__)
// 16 bytes -> 32 lower-case hex digits: split nibbles, interleave high/low, then add '0' and
// 39 more for digits above 9 ('a' - '0' - 10).
static void hex16(const std::uint8_t* in, char* out) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), mask);
  const __m128i lo = _mm_and_si128(v, mask);
  auto digits = [](__m128i n) {
    const __m128i letter = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));
    return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')),
                        _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
  };
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), digits(_mm_unpacklo_epi8(hi, lo)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), digits(_mm_unpackhi_epi8(hi, lo)));
}
#else
static void hex16(const std::uint8_t* in, char* out) {
  for (std::size_t i = 0; i < 16; ++i) std::memcpy(out + 2 * i, kTables.pairs + 2 * in[i], 2);
}
#endif

void toHex(const TraceId& id, char* out) { hex16(id.data(), out); }

void toHex(SpanId id, char* out) {
  std::uint8_t bytes[16] = {};
  putU64(id, bytes);
  char digits[32];
  hex16(bytes, digits);
  std::memcpy(out, digits, 16);
}

std::string toHex(const TraceId& id) {
  std::string s(32, '0');
  toHex(id, s.data());
  return s;
}

std::string spanIdHex(SpanId id) {
  std::string s(16, '0');
  toHex(id, s.data());
  return s;
}

void formatTraceparent(const TraceId& traceId, SpanId spanId, std::uint8_t flags, char* out) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  toHex(traceId, out + 3);
  out[35] = '-';
  toHex(spanId, out + 36);
  out[52] = '-';
  std::memcpy(out + 53, kTables.pairs + 2 * flags, 2);
}

std::string formatTraceparent(const TraceId& traceId, SpanId spanId, std::uint8_t flags) {
  std::string s(kTraceparentSize, '0');
  formatTraceparent(traceId, spanId, flags, s.data());
  return s;
}

std::optional<TraceId> parseTraceIdHex(std::string_view hex) {
  TraceId id{};
  if (hex.size() != 32 || !decodeBytes(kTables.any, hex, id.data())) return std::nullopt;
  return id;
}

TraceId randomTraceId() {
  TraceId id{};
  auto& g = rng();
  do {
    putU64(g.next(), id.data());
    putU64(g.next(), id.data() + 8);
  } while (isZero(id));
  return id;
}

SpanId randomSpanId() {
  auto& g = rng();
  SpanId id = 0;
  while (id == 0) id = g.next();
  return id;
}

SpanId derivedSpanId(SpanId base, std::uint32_t index) {
  std::uint64_t x = base ^ (std::uint64_t{index} * 0xd1b54a32d192ed03ull);
  SpanId id = splitmix64(x);
  return id != 0 ? id : 1;
}

}  // namespace archway::trace
