#pragma once
// HTTP/1.1 load generator on the engine's worker model (one io_context per thread).
//  - closed model (rate == 0): `connections` connections send back to back;
//  - open model (rate > 0): requests are scheduled at a constant arrival rate and latency is
//    measured from each request's intended send time, so stalls show in the percentiles
//    (no coordinated omission).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "metrics/histogram.h"

namespace archway::loadgen {

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

}  // namespace archway::loadgen
