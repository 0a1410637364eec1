#pragma once
// The per-request trace recorder. One per downstream session, reused for each request on it (a
// fixed-size member: recording never allocates). The proxy calls, on its worker thread:
//
//   rec.start(t0, ctx.header("traceparent"), sampler);   // when the request head is read
//   ctx.traceId = rec.traceIdHex();
//   rec.add(names::kRoute, tRouteBegin, tRouteEnd);       // each phase, when it ends
//   head.set("traceparent", rec.upstreamTraceparent());  // per upstream attempt
//   rec.add(names::kUpstreamFirstByte, tSent, tFirstByte, rec.upstreamSpanId());
//   ...
//   rec.finish(summary, sampler, store);                  // after the log phase
//
// Recording is unconditional between start() and finish(): the tail rules (errors, slow
// requests) can keep any request, and they are known only at the end. The cost is what the
// proxy pays for the timestamps (one steady_clock read per phase boundary, most of which the
// stats already take) plus a 24-byte store per span; a dropped trace costs nothing more, a kept
// one a copy into the TraceStore.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "trace/finished_trace.h"
#include "trace/sampler.h"
#include "trace/trace_context.h"

namespace archway::trace {

class TraceStore;

class TraceRecorder {
 public:
  using Clock = std::chrono::steady_clock;

  // Begins a request that started (first byte read) at t0. `traceparent` is the client's header
  // value, empty when absent; a valid one continues the client's trace (its trace id, its span
  // as our parent, its sampled flag), otherwise a new trace id is drawn.
  void start(Clock::time_point t0, std::string_view traceparent, const Sampler& sampler);
  // Stops recording without keeping anything (the connection went away).
  void abandon() { active_ = false; }
  bool active() const { return active_; }

  // A finished span. Spans beyond FinishedTrace::kMaxSpans are counted, not kept.
  void add(std::string_view name, Clock::time_point begin, Clock::time_point end,
           SpanId spanId = 0) {
    addUs(name, offsetUs(begin), offsetUs(end) - offsetUs(begin), spanId);
  }
  void addUs(std::string_view name, std::uint32_t startUs, std::uint32_t durationUs,
             SpanId spanId = 0) {
    if (!active_) return;
    if (trace_.spanCount == FinishedTrace::kMaxSpans) {
      ++trace_.droppedSpans;
      return;
    }
    trace_.spans[trace_.spanCount++] = SpanRecord{name, startUs, durationUs, spanId};
  }
  // Microseconds from the request's start to t (0 before it; saturates at ~71 minutes).
  std::uint32_t offsetUs(Clock::time_point t) const {
    if (t <= t0_) return 0;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - t0_).count();
    return us > 0xffffffffLL ? 0xffffffffu : static_cast<std::uint32_t>(us);
  }
  Clock::time_point startTime() const { return t0_; }

  // The traceparent value for one upstream attempt: this trace, a fresh span id for the
  // attempt (upstreamSpanId(); give it to the span covering the attempt so the upstream's
  // spans hang under it) and the head decision as the sampled flag. The view stays valid until
  // the next call or start().
  std::string_view upstreamTraceparent();
  SpanId upstreamSpanId() const { return upstreamSpanId_; }

  const TraceId& traceId() const { return trace_.traceId; }
  // 32 lower-case hex digits; valid until the next start() (Context::traceId points here).
  // Formatted on first use: most requests only need it for the upstream traceparent.
  std::string_view traceIdHex() const {
    if (!hexValid_) {
      toHex(trace_.traceId, traceIdHex_);
      hexValid_ = true;
    }
    return {traceIdHex_, 32};
  }
  SpanId rootSpanId() const { return trace_.rootSpanId; }
  SpanId parentSpanId() const { return trace_.parentSpanId; }
  bool headSampled() const { return (trace_.flags & kFlagSampled) != 0; }
  // The client's sampled flag, when it sent a valid traceparent.
  std::optional<bool> parentSampled() const {
    if (parentSampled_ < 0) return std::nullopt;
    return parentSampled_ == 1;
  }
  // What finish() would decide for this outcome, with the sampler given to start().
  bool wouldKeep(int status, std::uint64_t totalUs) const {
    return sampler_ && sampler_->keep(headSampled(), status, totalUs);
  }

  // The trace so far with the request's fields filled in from `summary` (its duration is
  // summary.totalUs). For the opentelemetry plugin's log phase, which exports before finish().
  const FinishedTrace& snapshot(const RequestSummary& summary);
  // Ends the request: copies the trace into `store` when the sampler keeps it. True if kept.
  bool finish(const RequestSummary& summary, const Sampler& sampler, TraceStore& store);

 private:
  FinishedTrace trace_;
  Clock::time_point t0_{};
  bool active_ = false;
  std::int8_t parentSampled_ = -1;  // -1: no traceparent
  const Sampler* sampler_ = nullptr;
  SpanId upstreamSpanId_ = 0;
  mutable char traceIdHex_[32] = {};
  mutable bool hexValid_ = false;
  char upstreamHeader_[kTraceparentSize] = {};
};

}  // namespace archway::trace
