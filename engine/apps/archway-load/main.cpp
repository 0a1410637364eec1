// archway-load: the engine's load generator on the command line (wrk-like output, or --json).
#include <signal.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "apps/cli.h"
#include "loadgen/load_generator.h"

namespace {

using namespace archway;
namespace json = boost::json;

volatile std::sig_atomic_t gInterrupted = 0;

extern "C" void onSignal(int) {
  gInterrupted = 1;
}

constexpr const char* kProgram = "archway-load";

int usageError(const std::string& message) {
  std::cerr << kProgram << ": " << message << "\n";
  return 2;
}

std::optional<long long> parseInt(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return v;
}

std::optional<double> parseDouble(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return v;
}

std::string trim(std::string s) {
  auto notSpace = [](char c) { return c != ' ' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  return s;
}

// 1234us -> "1.23ms", like wrk.
std::string formatUs(double us) {
  char buf[32];
  if (us < 1000)
    std::snprintf(buf, sizeof buf, "%.2fus", us);
  else if (us < 1e6)
    std::snprintf(buf, sizeof buf, "%.2fms", us / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
  return buf;
}

json::object errorsJson(const loadgen::Errors& e) {
  return {{"connect", e.connect},
          {"read", e.read},
          {"timeout", e.timeout},
          {"status_4xx", e.status4xx},
          {"status_5xx", e.status5xx}};
}

std::string formatMs(std::chrono::milliseconds d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

std::string formatRate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", rate);
  return buf;
}

// "DURATION:RATE", e.g. "30s:100".
std::optional<loadgen::Stage> parseStage(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  auto ms = cli::parseDurationMs(text.substr(0, colon));
  auto rate = parseDouble(text.substr(colon + 1));
  if (!ms || *ms <= 0 || !rate || !(*rate >= 0) || *rate > 1e9) return std::nullopt;
  return loadgen::Stage{std::chrono::milliseconds(*ms), *rate};
}

// "URL" or "URL@WEIGHT"; a trailing @ not followed by a number belongs to the URL.
loadgen::WeightedUrl parseWeightedUrl(const std::string& text, bool& badWeight) {
  badWeight = false;
  auto at = text.rfind('@');
  if (at == std::string::npos || text.find('/', at) != std::string::npos) return {text, 1};
  auto w = parseDouble(text.substr(at + 1));
  if (!w) return {text, 1};
  badWeight = !(*w > 0) || !std::isfinite(*w);
  return {text.substr(0, at), *w};
}

const char* okWord(bool ok) {
  return ok ? "ok" : "FAILED";
}

std::string formatThresholdValue(const loadgen::Threshold& t, double value) {
  char buf[64];
  switch (t.metric) {
    case loadgen::Threshold::Metric::errors:
      if (t.percent)
        std::snprintf(buf, sizeof buf, "%.2f%%", value);
      else
        std::snprintf(buf, sizeof buf, "%.0f", value);
      return buf;
    case loadgen::Threshold::Metric::rps:
      std::snprintf(buf, sizeof buf, "%.2f", value);
      return buf;
    default:
      return formatUs(value * 1e3);
  }
}

void printJson(const loadgen::Report& r, const std::vector<loadgen::ThresholdResult>& checks) {
  const auto& h = r.latency;
  json::object latency{
      {"mean", h.meanUs()},          {"p50", h.percentileUs(0.50)},   {"p90", h.percentileUs(0.90)},
      {"p99", h.percentileUs(0.99)}, {"p999", h.percentileUs(0.999)}, {"max", h.maxUs()}};
  json::array timeline;
  for (std::size_t i = 0; i < r.timeline.size(); ++i) {
    const auto& p = r.timeline[i];
    timeline.push_back(json::object{{"second", i + 1},
                                    {"requests", p.requests},
                                    {"rps", p.rps},
                                    {"p50_ms", p.p50Ms},
                                    {"p99_ms", p.p99Ms},
                                    {"errors", p.errors.total()}});
  }
  json::object out{{"requests", r.requests},
                   {"duration_s", r.durationS},
                   {"rps", r.rps},
                   {"errors", errorsJson(r.errors)},
                   {"latency_us", std::move(latency)},
                   {"timeline", std::move(timeline)},
                   {"cancelled", r.cancelled},
                   {"rate_not_kept", r.rateNotKept}};
  if (r.askedRps > 0) out["asked_rps"] = r.askedRps;
  json::array thresholds;
  for (const auto& c : checks) {
    thresholds.push_back(json::object{{"expr", c.expr}, {"ok", c.ok}, {"value", c.value}});
  }
  out["thresholds"] = std::move(thresholds);
  std::cout << json::serialize(out) << std::endl;
}

void printHuman(const loadgen::Report& r, const std::vector<loadgen::Threshold>& thresholds,
                const std::vector<loadgen::ThresholdResult>& checks) {
  const auto& h = r.latency;
  char buf[256];
  std::cout << "  Latency     avg         max\n";
  std::snprintf(buf, sizeof buf, "              %-10s  %-10s\n", formatUs(h.meanUs()).c_str(),
                formatUs(static_cast<double>(h.maxUs())).c_str());
  std::cout << buf << "  Latency Distribution\n";
  for (auto [label, q] :
       {std::pair{"50%", 0.50}, {"75%", 0.75}, {"90%", 0.90}, {"99%", 0.99}, {"99.9%", 0.999}}) {
    std::snprintf(buf, sizeof buf, "  %7s  %s\n", label, formatUs(h.percentileUs(q)).c_str());
    std::cout << buf;
  }
  std::snprintf(buf, sizeof buf, "  %llu requests in %.2fs\n",
                static_cast<unsigned long long>(r.requests), r.durationS);
  std::cout << buf;
  const auto& e = r.errors;
  if (e.connect || e.read || e.timeout) {
    std::cout << "  Socket errors: connect " << e.connect << ", read " << e.read << ", timeout "
              << e.timeout << "\n";
  }
  if (e.status4xx || e.status5xx) {
    std::cout << "  Non-2xx or 3xx responses: 4xx " << e.status4xx << ", 5xx " << e.status5xx
              << "\n";
  }
  std::snprintf(buf, sizeof buf, "Requests/sec: %10.2f\n", r.rps);
  std::cout << buf;
  if (r.rateNotKept) {
    std::snprintf(buf, sizeof buf,
                  "Warning: rate not kept: asked for %.2f requests/sec but achieved %.2f; add "
                  "connections or threads, or the target is saturated\n",
                  r.askedRps, r.rps);
    std::cout << buf;
  }
  if (r.cancelled) std::cout << "Interrupted: partial results\n";
  if (!checks.empty()) std::cout << "Thresholds:\n";
  for (std::size_t i = 0; i < checks.size(); ++i) {
    std::cout << "  " << okWord(checks[i].ok) << "  " << checks[i].expr << "  (value "
              << formatThresholdValue(thresholds[i], checks[i].value) << ")\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using cli::FlagSpec;
  std::vector<FlagSpec> flags = {
      {"connections", 'c', true, false, "CONNS", "connections to keep open (default 10)",
       "ARCHWAY_LOAD_CONNECTIONS"},
      {"duration", 'd', true, false, "DURATION", "test duration: 10s, 1m, 500ms (default 10s)",
       "ARCHWAY_LOAD_DURATION"},
      {"rate", 'R', true, false, "RATE",
       "constant request rate per second over all connections; 0: as fast as possible",
       "ARCHWAY_LOAD_RATE"},
      {"threads", 't', true, false, "THREADS", "threads (default 2, at most CONNS)",
       "ARCHWAY_LOAD_THREADS"},
      {"header", 'H', true, true, "\"K: V\"", "add a request header (repeatable)",
       "ARCHWAY_LOAD_HEADER"},
      {"method", 'm', true, false, "METHOD", "request method (default GET)", "ARCHWAY_LOAD_METHOD"},
      {"body", 0, true, false, "FILE", "send the contents of FILE as the request body",
       "ARCHWAY_LOAD_BODY"},
      {"timeout", 0, true, false, "DURATION", "per-request timeout (default 10s)",
       "ARCHWAY_LOAD_TIMEOUT"},
      {"json", 0, false, false, "", "print the report as one JSON object", "ARCHWAY_LOAD_JSON"},
      {"http2", 0, false, false, "", "use HTTP/2", "ARCHWAY_LOAD_HTTP2", true},
      {"stage", 0, true, true, "DURATION:RATE",
       "a stage of a ramped open-model profile: the rate goes linearly from the previous "
       "stage's (or -R's, default 0) to RATE over DURATION (repeatable; replaces -d)",
       "ARCHWAY_LOAD_STAGE"},
      {"warmup", 0, true, false, "DURATION",
       "send for DURATION before measuring (at -R in the open model); not counted",
       "ARCHWAY_LOAD_WARMUP"},
      {"url", 0, true, true, "URL[@WEIGHT]",
       "another request target on the same host:port, picked in proportion to WEIGHT "
       "(default 1; repeatable)",
       "ARCHWAY_LOAD_URL"},
      {"threshold", 0, true, true, "EXPR",
       "fail (exit 1) when EXPR does not hold: p99<50ms, p50<=10ms, max<1s, mean<5ms, "
       "errors<1%, errors==0, rps>=1000 (repeatable)",
       "ARCHWAY_LOAD_THRESHOLD"},
  };
  cli::Parser parser(kProgram, "[options] URL", flags, 1, "URL");
  if (auto err = parser.parse(argc, argv)) return usageError(*err);
  if (parser.helpRequested()) {
    std::cout << parser.helpText();
    return 0;
  }
  loadgen::Plan plan;
  for (const auto& text : parser.values("url")) {
    bool badWeight = false;
    auto u = parseWeightedUrl(text, badWeight);
    if (badWeight) return usageError("--url: weight must be positive in '" + text + "'");
    plan.urls.push_back(u);
  }
  if (!parser.positional().empty()) {
    plan.url = parser.positional().front();
  } else if (!plan.urls.empty()) {
    plan.url = plan.urls.front().url;
    plan.urlWeight = plan.urls.front().weight;
    plan.urls.erase(plan.urls.begin());
  } else {
    return usageError("missing URL (see --help)");
  }
  if (parser.has("connections")) {
    auto v = parseInt(parser.value("connections"));
    if (!v || *v < 1 || *v > 1000000) {
      return usageError("-c: expected a positive number of connections, got '" +
                        parser.value("connections") + "'");
    }
    plan.connections = static_cast<int>(*v);
  }
  plan.threads = std::min(2, plan.connections);
  if (parser.has("threads")) {
    auto v = parseInt(parser.value("threads"));
    if (!v || *v < 1 || *v > 1024) {
      return usageError("-t: expected a positive number of threads, got '" +
                        parser.value("threads") + "'");
    }
    plan.threads = static_cast<int>(*v);
  }
  if (parser.has("duration")) {
    auto ms = cli::parseDurationMs(parser.value("duration"));
    if (!ms || *ms <= 0) {
      return usageError("-d: invalid duration '" + parser.value("duration") +
                        "' (e.g. 10s, 1m, 500ms)");
    }
    plan.duration = std::chrono::milliseconds(*ms);
  }
  if (parser.has("timeout")) {
    auto ms = cli::parseDurationMs(parser.value("timeout"));
    if (!ms || *ms <= 0) {
      return usageError("--timeout: invalid duration '" + parser.value("timeout") +
                        "' (e.g. 2s, 500ms)");
    }
    plan.timeout = std::chrono::milliseconds(*ms);
  }
  if (parser.has("rate")) {
    auto v = parseDouble(parser.value("rate"));
    if (!v || !(*v >= 0) || *v > 1e9) {
      return usageError("-R: expected a request rate >= 0, got '" + parser.value("rate") + "'");
    }
    plan.rate = *v;
  }
  for (const auto& text : parser.values("stage")) {
    auto st = parseStage(text);
    if (!st) {
      return usageError("--stage: invalid stage '" + text +
                        "' (expected DURATION:RATE, e.g. 30s:100)");
    }
    plan.stages.push_back(*st);
  }
  if (!plan.stages.empty() && parser.has("duration")) {
    return usageError("--stage: cannot be combined with -d (the stages set the duration)");
  }
  if (parser.has("warmup")) {
    auto ms = cli::parseDurationMs(parser.value("warmup"));
    if (!ms || *ms < 0) {
      return usageError("--warmup: invalid duration '" + parser.value("warmup") +
                        "' (e.g. 2s, 500ms)");
    }
    plan.warmup = std::chrono::milliseconds(*ms);
  }
  std::vector<loadgen::Threshold> thresholds;
  for (const auto& text : parser.values("threshold")) {
    auto t = loadgen::parseThreshold(text);
    if (!t) return usageError("--threshold: " + t.errors().front().message);
    thresholds.push_back(*t);
  }
  if (parser.has("method")) plan.method = parser.value("method");
  for (const auto& h : parser.values("header")) {
    auto colon = h.find(':');
    std::string name = colon == std::string::npos ? std::string() : trim(h.substr(0, colon));
    if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos ||
        h.find_first_of("\r\n") != std::string::npos) {
      return usageError("-H: invalid header '" + h + "' (expected \"Name: value\")");
    }
    plan.headers.emplace_back(name, trim(h.substr(colon + 1)));
  }
  if (parser.has("body")) {
    std::ifstream in(parser.value("body"), std::ios::binary);
    if (!in) return usageError("--body: cannot read '" + parser.value("body") + "'");
    std::ostringstream content;
    content << in.rdbuf();
    plan.body = content.str();
  }
  if (auto status = loadgen::validatePlan(plan); !status) {
    // One line: the first problem, named by its field (url, method, ...).
    return usageError(status.errors().front().text());
  }

  bool asJson = parser.has("json");
  if (!asJson) {
    auto measured = plan.duration;
    if (!plan.stages.empty()) {
      measured = std::chrono::milliseconds(0);
      for (const auto& st : plan.stages) measured += st.duration;
    }
    std::cout << "Running " << formatMs(measured) << " test @ " << plan.url;
    for (const auto& u : plan.urls) std::cout << ", " << u.url;
    std::cout << "\n"
              << "  " << std::min(plan.threads, plan.connections) << " threads and "
              << plan.connections << " connections";
    if (!plan.stages.empty()) {
      std::cout << ", stages from " << formatRate(plan.rate) << " requests/sec:";
      for (const auto& st : plan.stages) {
        std::cout << " " << formatMs(st.duration) << ":" << formatRate(st.rate);
      }
    } else if (plan.rate > 0) {
      std::cout << ", constant rate " << plan.rate << " requests/sec";
    }
    if (plan.warmup.count() > 0) std::cout << ", after a " << formatMs(plan.warmup) << " warm-up";
    std::cout << std::endl;
  }

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once if the first one is not enough
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto run = loadgen::start(plan);
  bool cancelRequested = false;
  while (!run->done()) {
    if (gInterrupted && !cancelRequested) {
      run->cancel();
      cancelRequested = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  loadgen::Report report = run->wait();
  if (!report.error.empty()) {
    std::cerr << kProgram << ": " << report.error << "\n";
    return 1;
  }
  std::vector<loadgen::ThresholdResult> checks;
  bool failed = false;
  for (const auto& t : thresholds) {
    checks.push_back(loadgen::evaluate(t, report));
    failed = failed || !checks.back().ok;
  }
  if (asJson)
    printJson(report, checks);
  else
    printHuman(report, thresholds, checks);
  return failed ? 1 : 0;
}
