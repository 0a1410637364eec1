#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): parsing the `traceparent` a client
// sends, formatting the one Archway passes upstream, and the random ids of new traces and
// spans. No allocation, no locks: every function here may run on a worker for each request.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace archway::trace {

// 16 bytes, in wire (big-endian) order. All zeros is invalid.
using TraceId = std::array<std::uint8_t, 16>;
// 8 bytes as a big-endian number (so its hex is the W3C hex). 0 is invalid.
using SpanId = std::uint64_t;

inline bool isZero(const TraceId& id) {
  for (auto b : id) {
    if (b != 0) return false;
  }
  return true;
}

struct TraceParent {
  TraceId traceId{};
  SpanId parentId = 0;
  std::uint8_t flags = 0;
  bool sampled() const { return (flags & 0x01) != 0; }
};

inline constexpr std::size_t kTraceparentSize = 55;  // "00-" 32 "-" 16 "-" 2
inline constexpr std::uint8_t kFlagSampled = 0x01;

// A `traceparent` value, or nullopt when it must be ignored (the spec: start a new trace).
// Version 00 is exactly 55 characters; a later version (not ff) may be longer when the 56th
// character is '-' (forward compatibility), its first four fields are read as version 00's.
// Hex is lower case only; all-zero trace or parent ids are invalid. Surrounding spaces and
// tabs (OWS) are ignored.
std::optional<TraceParent> parseTraceparent(std::string_view value);

// Writes "00-<trace id>-<span id>-<flags>" (kTraceparentSize characters, lower-case hex).
void formatTraceparent(const TraceId& traceId, SpanId spanId, std::uint8_t flags, char* out);
std::string formatTraceparent(const TraceId& traceId, SpanId spanId, std::uint8_t flags);

// Lower-case hex: 32 characters for a trace id, 16 for a span id.
void toHex(const TraceId& id, char* out32);
void toHex(SpanId id, char* out16);
std::string toHex(const TraceId& id);
std::string spanIdHex(SpanId id);
// 32 hex digits of either case (an id typed into the Admin API); nullopt otherwise.
std::optional<TraceId> parseTraceIdHex(std::string_view hex);

// Random ids from a per-thread xoshiro256** generator seeded once per thread from
// std::random_device: no lock and no system call after a thread's first id. Never zero.
TraceId randomTraceId();
SpanId randomSpanId();

// A span id derived from `base` and `index` (splitmix64): ids for spans that were recorded
// without one, computed only when a trace is exported. Never zero.
SpanId derivedSpanId(SpanId base, std::uint32_t index);

}  // namespace archway::trace
