#pragma once
// Word-at-a-time scans for the head parser's hot loops: field values, header names and request
// targets. Each returns the first index in [i, e) whose byte stops the scan, or e, and never reads
// outside [0, e) of the buffer. SSE2 (baseline on x86-64) checks 16 bytes per step; the last
// partial block is a full 16-byte load ending at e, with the lanes before i shifted out. Without
// SSE2 (or with ARCHWAY_HTTP_NO_SIMD defined, to test the fallback) the scans are scalar.
// Internal to engine/http.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "http/char_class.h"

#if defined(__SSE2__) && !defined(ARCHWAY_HTTP_NO_SIMD)
#include <emmintrin.h>
#define ARCHWAY_HTTP_SSE2 1
#endif

namespace archway::http::detail {

// A byte < 0x20 or 0x7f: the bytes a field value or reason phrase may not hold, except HTAB, and
// the bytes ending a line (CR, LF).
inline bool isCtl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// The scalar "fast" name class: what header names are made of almost always.
inline bool isAlnumOrDash(unsigned char c) {
  const unsigned char l = c | 0x20;
  return (l >= 'a' && l <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

#ifdef ARCHWAY_HTTP_SSE2

struct CtlScan {
  static unsigned mask(__m128i v) {
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);  // v <= 0x1f
    const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, del)));
  }
  static bool stop(unsigned char c) { return isCtl(c); }
};

struct TargetScan {
  static unsigned mask(__m128i v) {
    // Signed: bytes >= 0x80 are negative, so "< 0x21" also catches them (not allowed).
    const __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x21));
    const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    const __m128i hash = _mm_cmpeq_epi8(v, _mm_set1_epi8('#'));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(low, del), hash)));
  }
  static bool stop(unsigned char c) { return !(kClasses[c] & kTarget); }
};

struct AlnumDashScan {
  static unsigned mask(__m128i v) {
    // (v | 0x20) - 'a' < 26 and v - '0' < 10 as unsigned compares, done signed after a bias.
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(folded, _mm_set1_epi8(0x80 - 'a')),
                                         _mm_set1_epi8(static_cast<char>(-128 + 26)));
    const __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x80 - '0')),
                                         _mm_set1_epi8(static_cast<char>(-128 + 10)));
    const __m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    const unsigned ok = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), dash)));
    return ~ok & 0xffffu;
  }
  static bool stop(unsigned char c) { return !isAlnumOrDash(c); }
};

inline unsigned lowestBit(unsigned m) {
  return static_cast<unsigned>(__builtin_ctz(m));
}

template <class Scan>
inline std::size_t scanTo(const char* d, std::size_t i, std::size_t e) {
  while (i + 16 <= e) {
    const unsigned m = Scan::mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i)));
    if (m) return i + lowestBit(m);
    i += 16;
  }
  if (i == e) return e;
  if (e >= 16) {
    // The block ending at e; its lanes before i were checked already (or are not ours).
    const std::size_t base = e - 16;
    const unsigned m =
        Scan::mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + base))) >> (i - base);
    return m ? i + lowestBit(m) : e;
  }
  while (i < e && !Scan::stop(static_cast<unsigned char>(d[i]))) ++i;
  return i;
}

#else  // portable fallback

struct CtlScan {
  static bool stop(unsigned char c) { return isCtl(c); }
};
struct TargetScan {
  static bool stop(unsigned char c) { return !(kClasses[c] & kTarget); }
};
struct AlnumDashScan {
  static bool stop(unsigned char c) { return !isAlnumOrDash(c); }
};

template <class Scan>
inline std::size_t scanTo(const char* d, std::size_t i, std::size_t e) {
  while (i < e && !Scan::stop(static_cast<unsigned char>(d[i]))) ++i;
  return i;
}

#endif

// The first byte in [i, e) below 0x20 or 0x7f (HTAB, CR and LF included), or e.
inline std::size_t findCtl(const char* d, std::size_t i, std::size_t e) {
  return scanTo<CtlScan>(d, i, e);
}

// The first byte in [i, e) that is not a request-target byte (kTarget), or e.
inline std::size_t skipTarget(const char* d, std::size_t i, std::size_t e) {
  return scanTo<TargetScan>(d, i, e);
}

// The first byte in [i, e) that is not a tchar, or e. Letters, digits and '-' go 16 at a time;
// the rarer tchars cost a table lookup each.
inline std::size_t skipToken(const char* d, std::size_t i, std::size_t e) {
  for (;;) {
    i = scanTo<AlnumDashScan>(d, i, e);
    if (i == e || !is(d[i], kToken)) return i;
    ++i;
  }
}

}  // namespace archway::http::detail
