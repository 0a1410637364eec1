#pragma once
// HTTP/1.1 load generator on the engine's worker model (one io_context per thread).
//  - closed model (rate == 0): `connections` connections send back to back;
//  - open model (rate > 0, or stages): requests are scheduled at an arrival rate (constant, or
//    ramped linearly stage by stage like k6's ramping-arrival-rate) and latency is measured from
//    each request's intended send time, so stalls show in the percentiles (no coordinated
//    omission).
// A warm-up before the measured part sends requests that are not counted.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "metrics/histogram.h"

namespace archway::loadgen {

// One stage of a ramped open-model profile: the arrival rate goes linearly from the previous
// stage's end rate (Plan::rate for the first stage) to `rate` over `duration`.
struct Stage {
  std::chrono::milliseconds duration{0};
  double rate = 0;  // requests per second at the end of the stage
};

// A further request target, chosen in proportion to its weight. It must have the same
// host:port as Plan::url: all connections go to one endpoint and carry every target.
struct WeightedUrl {
  std::string url;
  double weight = 1;
};

struct Plan {
  std::string url;  // http://host:port/path?query
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connections = 10;
  int threads = 1;
  std::chrono::milliseconds duration{10000};
  double rate = 0;  // requests per second over all connections; 0: closed model
  std::chrono::milliseconds timeout{10000};  // per request
  // Non-empty: an open-model ramp; `duration` is then the sum of the stages and `rate` the
  // rate the first stage starts from.
  std::vector<Stage> stages;
  // Runs before the measured part (at `rate`, the profile's starting rate, in the open model);
  // its requests are sent but not counted, and the report's clock starts after it.
  std::chrono::milliseconds warmup{0};
  double urlWeight = 1;           // weight of `url` among `urls`
  std::vector<WeightedUrl> urls;  // more targets on the same host:port
};

struct Errors {
  std::uint64_t connect = 0, read = 0, timeout = 0, status4xx = 0, status5xx = 0;
  std::uint64_t total() const { return connect + read + timeout + status4xx + status5xx; }
};

// One point of the per-second timeline, and what progress callbacks receive.
struct Progress {
  double elapsedS = 0;
  std::uint64_t requests = 0;  // in this interval
  double rps = 0;
  double p50Ms = 0, p99Ms = 0;
  Errors errors;  // in this interval
};

struct Report {
  std::uint64_t requests = 0;
  double durationS = 0;
  double rps = 0;
  Errors errors;
  metrics::Histogram latency;      // microseconds
  std::vector<Progress> timeline;  // one point per second
  bool cancelled = false;
  bool rateNotKept = false;  // open model: the generator fell behind the asked rate
  double askedRps = 0;       // open model: the mean asked rate over the measured run
  std::string error;         // a plan that could not start (bad URL, unresolvable host)
};

class Run {
 public:
  virtual ~Run() = default;
  virtual void cancel() = 0;  // any thread; the run stops within a few milliseconds
  virtual bool done() const = 0;
  virtual Report wait() = 0;  // blocks until done, returns the report
};

// Starts a run on its own threads. `onProgress` is called from a generator thread every
// `progressInterval` with the counts of that interval; it must not block.
std::unique_ptr<Run> start(
    Plan plan, std::function<void(const Progress&)> onProgress = {},
    std::chrono::milliseconds progressInterval = std::chrono::milliseconds(250));

// Parses a plan URL; errors name the problem.
core::Status validatePlan(const Plan& plan);

// A pass/fail condition on a report: METRIC OP VALUE, e.g. "p99<50ms", "p50<=10ms", "max<1s",
// "mean<5ms", "errors<1%", "errors==0", "rps>=1000". Latency metrics: pN (0<N<=100; p999 is
// 99.9), mean (or avg), max; latency values take us, ms (the default) or s. errors: a
// count, or a share of attempts with %. rps: requests per second. OP: < <= > >= ==.
struct Threshold {
  enum class Metric { percentile, mean, max, errors, rps };
  enum class Op { lt, le, gt, ge, eq };
  std::string expr;  // as given
  Metric metric = Metric::percentile;
  double quantile = 0;  // percentile: 0.99 for p99
  Op op = Op::lt;
  double limit = 0;      // latency: microseconds; errors: a count, or a share 0..1; rps
  bool percent = false;  // errors given as a share
};

struct ThresholdResult {
  std::string expr;
  bool ok = false;
  // In the expression's unit: latency in milliseconds, errors a count or a percentage, rps.
  double value = 0;
};

core::Result<Threshold> parseThreshold(std::string_view expr);
// A latency threshold fails when the report has no responses (nothing was measured).
ThresholdResult evaluate(const Threshold& threshold, const Report& report);

}  // namespace archway::loadgen
