#pragma once
// Which requests' traces are kept. Two kinds of rule:
// - head: a probability (`rate`) applied to the trace id, so every service that samples by
//   trace id with the same rate keeps the same traces; a client's traceparent sampled flag
//   decides instead when `respectParentSampled` (OpenTelemetry's ParentBased sampler). The head
//   decision is what Archway passes upstream in the sampled flag.
// - tail: errors (status >= 500, and 4xx when asked) and requests slower than a threshold are
//   kept whatever the head decision. They are known only when the request ends, so a recorder
//   records every request's spans and the decision is made in TraceRecorder::finish().
// The policy can change at run time from any thread (relaxed atomics: a request may see a
// mix of old and new fields while it changes, which is harmless).
#include <atomic>
#include <cstdint>
#include <optional>

#include "trace/trace_context.h"

namespace archway::trace {

struct SamplingPolicy {
  bool enabled = true;            // false: requests are not traced at all
  double rate = 0.01;             // 0..1, Kong's default tracing_sampling_rate
  bool keepServerErrors = true;   // status >= 500
  bool keepClientErrors = false;  // 400..499
  std::uint32_t slowMs = 1000;    // keep requests that took at least this long; 0: off
  bool respectParentSampled = true;
};

class Sampler {
 public:
  explicit Sampler(const SamplingPolicy& policy = {}) { set(policy); }
  void set(const SamplingPolicy& policy);
  SamplingPolicy get() const;

  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  // The decision at the start of the request. `parentSampled` is the client's flag, if any.
  bool headSampled(const TraceId& id, std::optional<bool> parentSampled) const;
  // The decision at the end: the head decision or any tail rule.
  bool keep(bool headSampled, int status, std::uint64_t totalUs) const;

  // The trace-id ratio rule alone: the low 56 bits of the id (W3C level 2 puts the randomness
  // there) compared with rate * 2^56. rate <= 0 never, rate >= 1 always.
  static bool ratioSampled(const TraceId& id, double rate);

 private:
  static std::uint64_t threshold(double rate);
  std::atomic<bool> enabled_{true};
  std::atomic<double> rate_{0};
  std::atomic<std::uint64_t> threshold_{0};
  std::atomic<bool> keepServerErrors_{true}, keepClientErrors_{false}, respectParent_{true};
  std::atomic<std::uint32_t> slowMs_{0};
};

}  // namespace archway::trace
