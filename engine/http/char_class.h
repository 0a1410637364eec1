#pragma once
// Byte classes of RFC 9110 / 9112 as 256-entry tables: one load per byte on the hot path.
// Internal to engine/http.
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace archway::http::detail {

enum : std::uint8_t {
  kToken = 1,   // tchar
  kValue = 2,   // field-vchar, SP, HTAB (obs-text included)
  kTarget = 4,  // bytes allowed in a request-target
  kHost = 8,    // reg-name / IP-literal / port bytes of an authority
  kHex = 16,
};

constexpr std::array<std::uint8_t, 256> makeClasses() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit ||
        std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos)
      v |= kToken;
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) v |= kValue;
    // Visible ASCII only; '#' because a fragment is never part of a request-target.
    if (c > 0x20 && c < 0x7f && c != '#') v |= kTarget;
    if (alpha || digit ||
        std::string_view("-._~!$&'()*+,;=%:[]").find(char(c)) != std::string_view::npos)
      v |= kHost;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    t[c] = v;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kClasses = makeClasses();

inline bool is(char c, std::uint8_t cls) {
  return kClasses[static_cast<unsigned char>(c)] & cls;
}

// SWAR (8 bytes per step) helpers: exact for "does any byte of w match", which is all the
// skip loops below need; they fall back to the table for the word that matched.
inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;
inline constexpr std::uint64_t kHighs = 0x8080808080808080ull;
inline std::uint64_t anyLess(std::uint64_t w, std::uint8_t n) {
  return (w - kOnes * n) & ~w & kHighs;
}
inline std::uint64_t anyEqual(std::uint64_t w, std::uint8_t c) {
  const std::uint64_t x = w ^ (kOnes * c);
  return (x - kOnes) & ~x & kHighs;
}

// The first index in [i, e) whose byte is not of class `cls`, or e. `cls` is kValue or kTarget.
template <std::uint8_t cls>
inline std::size_t skipClass(const char* d, std::size_t i, std::size_t e) {
  while (i + 8 <= e) {
    std::uint64_t w;
    std::memcpy(&w, d + i, 8);
    std::uint64_t suspect;
    if constexpr (cls == kValue) {
      suspect = anyLess(w, 0x20) | anyEqual(w, 0x7f);  // HTAB lands here too
    } else {
      static_assert(cls == kTarget);
      suspect = anyLess(w, 0x21) | anyEqual(w, 0x7f) | anyEqual(w, '#') | (w & kHighs);
    }
    if (suspect) {
      for (std::size_t end = i + 8; i < end; ++i)
        if (!(kClasses[static_cast<unsigned char>(d[i])] & cls)) return i;
    } else {
      i += 8;
    }
  }
  while (i < e && (kClasses[static_cast<unsigned char>(d[i])] & cls)) ++i;
  return i;
}

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

// `s` equals the lower-case literal `lit`, ASCII case-insensitively.
inline bool equalsLower(std::string_view s, std::string_view lit) {
  if (s.size() != lit.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (lower(s[i]) != lit[i]) return false;
  return true;
}

// `n` bytes at `p`, all tchars, equal the lower-case literal `lit` of letters and '-', ASCII
// case-insensitively. Folds with OR 0x20 a word at a time, which is exact only because every byte
// is a tchar: the only other byte that folds to a letter or '-' is its other case (CR would fold
// to '-', but CR is no tchar).
inline bool equalsLowerToken(const char* p, const char* lit, std::size_t n) {
  auto word = [](const char* q, std::size_t k) {
    std::uint64_t w = 0;
    std::memcpy(&w, q, k);
    return w;
  };
  const std::size_t k = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
  const std::uint64_t fold = kOnes * 0x20 >> (64 - 8 * k);
  for (std::size_t i = 0; i + k <= n; i += k)
    if ((word(p + i, k) | fold) != word(lit + i, k)) return false;
  if (n % k == 0) return true;
  return (word(p + n - k, k) | fold) == word(lit + n - k, k);  // overlapping last word
}

inline bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return lower(c) - 'a' + 10;
}

// Calls fn(element) for each non-empty element of a comma-separated list with OWS trimmed.
// RFC 9110 5.6.1: recipients ignore empty list elements.
template <class Fn>
inline bool forEachListElement(std::string_view list, Fn&& fn) {
  std::size_t i = 0;
  while (i <= list.size()) {
    std::size_t comma = list.find(',', i);
    if (comma == std::string_view::npos) comma = list.size();
    std::size_t b = i, e = comma;
    while (b < e && (list[b] == ' ' || list[b] == '\t')) ++b;
    while (e > b && (list[e - 1] == ' ' || list[e - 1] == '\t')) --e;
    if (e > b && !fn(list.substr(b, e - b))) return false;
    i = comma + 1;
  }
  return true;
}

}  // namespace archway::http::detail
