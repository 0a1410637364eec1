#pragma once
// One request's trace as it is kept: a fixed-size, trivially copyable record (no pointers
// except span names, which are static or interned and never freed), so a worker can copy it
// into the trace store's lock-free slots and readers can copy it out again.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "trace/trace_context.h"

namespace archway::trace {

// A string truncated to N bytes, stored inline.
template <std::size_t N>
struct FixedString {
  std::array<char, N> chars{};
  std::uint16_t size = 0;

  void assign(std::string_view s) {
    size = static_cast<std::uint16_t>(std::min(s.size(), N));
    if (size) std::memcpy(chars.data(), s.data(), size);
  }
  std::string_view view() const { return {chars.data(), size}; }
  bool empty() const { return size == 0; }
};

struct SpanRecord {
  std::string_view name;         // static or interned (span_names.h)
  std::uint32_t startUs = 0;     // from the request's first byte
  std::uint32_t durationUs = 0;  //
  SpanId spanId = 0;             // set when it was propagated upstream; else derived on export
};

// What the proxy knows about a request when it ends (views, copied only if the trace is kept).
struct RequestSummary {
  std::string_view method;
  std::string_view scheme = "http";
  std::string_view host;
  std::string_view path;
  std::string_view clientIp;
  std::string_view routeId;
  std::string_view routeName;
  std::string_view serviceName;
  int status = 0;
  int upstreamStatus = 0;     // 0 when the upstream was not reached
  std::uint64_t totalUs = 0;  // first byte in to last byte out
};

struct FinishedTrace {
  static constexpr std::size_t kMaxSpans = 64;

  TraceId traceId{};
  SpanId rootSpanId = 0;    // the gateway's span for the whole request
  SpanId parentSpanId = 0;  // the client's span from its traceparent; 0 when none
  std::uint8_t flags = 0;   // trace flags as sent upstream (bit 0: the head decision)
  std::int64_t startUnixNs = 0;
  std::uint64_t durationUs = 0;
  std::uint16_t status = 0;
  std::uint16_t upstreamStatus = 0;
  std::uint16_t spanCount = 0;
  std::uint16_t droppedSpans = 0;  // recorded beyond kMaxSpans
  FixedString<16> method;
  FixedString<8> scheme;
  FixedString<128> host;
  FixedString<256> path;
  FixedString<48> clientIp;
  FixedString<36> routeId;
  FixedString<128> routeName;
  FixedString<128> serviceName;
  std::array<SpanRecord, kMaxSpans> spans{};

  // The route as the Admin API names it: its name, else its id; empty when none matched.
  std::string_view route() const { return routeName.empty() ? routeId.view() : routeName.view(); }
  // Span i's id: the one it was recorded with, else one derived from the root span id.
  SpanId spanIdAt(std::size_t i) const {
    return spans[i].spanId ? spans[i].spanId
                           : derivedSpanId(rootSpanId, static_cast<std::uint32_t>(i));
  }
};

static_assert(std::is_trivially_copyable_v<FinishedTrace>);

}  // namespace archway::trace
