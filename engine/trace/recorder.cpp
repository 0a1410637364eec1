#include "trace/recorder.h"

#include <cstring>

#include "trace/trace_store.h"

namespace archway::trace {

void TraceRecorder::start(Clock::time_point t0, std::string_view traceparent,
                          const Sampler& sampler) {
  t0_ = t0;
  active_ = true;
  upstreamSpanId_ = 0;
  trace_.spanCount = 0;
  trace_.droppedSpans = 0;
  sampler_ = &sampler;
  std::optional<bool> parentSampled;
  if (auto tp = traceparent.empty() ? std::nullopt : parseTraceparent(traceparent)) {
    trace_.traceId = tp->traceId;
    trace_.parentSpanId = tp->parentId;
    parentSampled = tp->sampled();
  } else {
    trace_.traceId = randomTraceId();
    trace_.parentSpanId = 0;
  }
  parentSampled_ = parentSampled ? (*parentSampled ? 1 : 0) : -1;
  trace_.rootSpanId = randomSpanId();
  trace_.flags = sampler.headSampled(trace_.traceId, parentSampled) ? kFlagSampled : 0;
  hexValid_ = false;
}

std::string_view TraceRecorder::upstreamTraceparent() {
  upstreamSpanId_ = randomSpanId();
  // formatTraceparent's layout, with the trace id's digits reused across attempts.
  char* out = upstreamHeader_;
  std::memcpy(out, "00-", 3);
  std::memcpy(out + 3, traceIdHex().data(), 32);
  out[35] = '-';
  toHex(upstreamSpanId_, out + 36);
  out[52] = '-';
  constexpr char kDigits[] = "0123456789abcdef";
  out[53] = kDigits[trace_.flags >> 4];
  out[54] = kDigits[trace_.flags & 0x0f];
  return {upstreamHeader_, kTraceparentSize};
}

const FinishedTrace& TraceRecorder::snapshot(const RequestSummary& s) {
  FinishedTrace& t = trace_;
  t.durationUs = s.totalUs;
  // Wall-clock start, from the steady clock's elapsed time: one system_clock read per kept
  // trace instead of one per request.
  const auto elapsed = Clock::now() - t0_;
  t.startUnixNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      (std::chrono::system_clock::now() - elapsed).time_since_epoch())
                      .count();
  t.status = static_cast<std::uint16_t>(s.status);
  t.upstreamStatus = static_cast<std::uint16_t>(s.upstreamStatus);
  t.method.assign(s.method);
  t.scheme.assign(s.scheme);
  t.host.assign(s.host);
  t.path.assign(s.path);
  t.clientIp.assign(s.clientIp);
  t.routeId.assign(s.routeId);
  t.routeName.assign(s.routeName);
  t.serviceName.assign(s.serviceName);
  return t;
}

bool TraceRecorder::finish(const RequestSummary& summary, const Sampler& sampler,
                           TraceStore& store) {
  if (!active_) return false;
  active_ = false;
  if (!sampler.keep(headSampled(), summary.status, summary.totalUs)) return false;
  return store.push(snapshot(summary));
}

}  // namespace archway::trace
