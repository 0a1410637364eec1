// Router match cost with a large config: 10,000 routes with exact and wildcard hosts, prefix
// paths, ~5% regex paths, some methods and headers. Measures one Router::match per iteration
// for requests aimed at host+prefix routes, host-less prefix routes, regex routes and misses,
// and prints the build time and the peak RSS (VmHWM) around the build.
//
//   router_bench [--routes=N] [google benchmark flags]
//
// The closing line sums it up: medians in ns per match over the repetitions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "router/router.h"

using namespace archway;

namespace {

long vmKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  std::size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return std::strtol(line.c_str() + n + 1, nullptr, 10);
  }
  return -1;
}

struct Request {
  std::string method;
  std::string host;
  std::string path;
  std::string headerName;
  std::string headerValue;
  std::size_t target = 0;  // the config index the request was made for
};

std::string_view headerOf(const void* ctx, std::string_view name) {
  const auto* r = static_cast<const Request*>(ctx);
  return name == r->headerName ? std::string_view(r->headerValue) : std::string_view{};
}

router::RequestView viewOf(const Request& r) {
  router::RequestView v;
  v.method = r.method;
  v.host = r.host;
  v.path = r.path;
  v.headerContext = &r;
  v.header = headerOf;
  return v;
}

struct Fixture {
  core::Config config;
  std::unique_ptr<router::Router> router;
  std::vector<Request> hostPrefix, anyHostPrefix, regex, miss;
};

Fixture* fixture = nullptr;

core::Config makeConfig(std::size_t count, std::mt19937& rng) {
  core::Config c;
  for (int s = 0; s < 100; ++s) {
    c.services.push_back(core::Service{.id = "svc" + std::to_string(s), .host = "up"});
  }
  auto percent = [&] { return static_cast<int>(rng() % 100); };
  const std::size_t exactHosts = std::max<std::size_t>(1, count * 3 / 10);
  for (std::size_t i = 0; i < count; ++i) {
    core::Route r;
    r.id = "route" + std::to_string(i);
    r.serviceId = "svc" + std::to_string(i % 100);
    int h = percent();
    if (h < 65) {
      r.hosts.push_back("svc" + std::to_string(i % exactHosts) + ".example.com");
      if (percent() < 10) r.hosts.push_back("alias" + std::to_string(i) + ".example.org");
    } else if (h < 75) {
      r.hosts.push_back("*.t" + std::to_string(i % 300) + ".example.net");
    } else if (h < 80) {
      r.hosts.push_back("api" + std::to_string(i % 200) + ".*");
    }  // else: no hosts
    if (percent() < 5) {
      r.paths.push_back("~/r" + std::to_string(i) + "/items/\\d+(/[a-z]+)?$");
      if (percent() < 30) r.paths.push_back("~/r" + std::to_string(i) + "/(foo|bar)/[0-9a-f]{8}");
      r.regexPriority = static_cast<int>(rng() % 3);
    } else {
      std::string base = "/v" + std::to_string(rng() % 3) + "/res" + std::to_string(i % 500);
      r.paths.push_back(percent() < 50 ? base : base + "/sub" + std::to_string(i));
      if (percent() < 20) r.paths.push_back("/alt" + std::to_string(i));
    }
    int m = percent();
    if (m < 10)
      r.methods = {"GET"};
    else if (m < 20)
      r.methods = {"GET", "POST"};
    if (percent() < 5) r.headers["x-version"] = {"v" + std::to_string(i % 3)};
    c.routes.push_back(std::move(r));
  }
  return c;
}

Request requestFor(const core::Config& c, std::size_t i, std::mt19937& rng) {
  const core::Route& r = c.routes[i];
  Request q;
  q.target = i;
  q.method = r.methods.empty() ? "GET" : r.methods.back();
  if (!r.hosts.empty()) {
    const std::string& h = r.hosts.front();
    if (h.rfind("*.", 0) == 0)
      q.host = "a" + std::to_string(rng() % 10) + h.substr(1);
    else if (h.size() > 2 && h.compare(h.size() - 2, 2, ".*") == 0)
      q.host = h.substr(0, h.size() - 1) + "io";
    else
      q.host = h;
    if (rng() % 4 == 0) q.host += ":8000";
  } else {
    q.host = "unknown.example.com";
  }
  const std::string& p = r.paths.front();
  if (p[0] == '~')
    q.path = "/r" + std::to_string(i) + "/items/" + std::to_string(rng() % 100000) + "/abc";
  else
    q.path = p + "/" + std::to_string(rng() % 1000) + "/detail";
  if (!r.headers.empty()) {
    q.headerName = r.headers.begin()->first;
    q.headerValue = r.headers.begin()->second.front();
  }
  return q;
}

void runMatches(benchmark::State& state, const std::vector<Request>& requests) {
  std::vector<router::RequestView> views;
  for (const Request& r : requests) views.push_back(viewOf(r));
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    router::Match m = fixture->router->match(views[i]);
    benchmark::DoNotOptimize(m);
    hits += m.route != nullptr;
    if (++i == views.size()) i = 0;
  }
  state.counters["hit%"] = 100.0 * static_cast<double>(hits) /
                           static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

void BM_MatchHostPrefix(benchmark::State& s) {
  runMatches(s, fixture->hostPrefix);
}
void BM_MatchAnyHostPrefix(benchmark::State& s) {
  runMatches(s, fixture->anyHostPrefix);
}
void BM_MatchRegex(benchmark::State& s) {
  runMatches(s, fixture->regex);
}
void BM_MatchMiss(benchmark::State& s) {
  runMatches(s, fixture->miss);
}

// Short runs: the machine is shared. Five repetitions, medians reported.
#define ROUTER_BENCH(fn)                                                         \
  BENCHMARK(fn)->MinTime(0.1)->Repetitions(5)->ReportAggregatesOnly(true)->Unit( \
      benchmark::kNanosecond)
ROUTER_BENCH(BM_MatchHostPrefix);
ROUTER_BENCH(BM_MatchAnyHostPrefix);
ROUTER_BENCH(BM_MatchRegex);
ROUTER_BENCH(BM_MatchMiss);

// Keeps the console output and remembers each benchmark's median for the closing line.
class MedianReporter : public benchmark::ConsoleReporter {
 public:
  MedianReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")
        medians_[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const std::map<std::string, double>& medians() const { return medians_; }

 private:
  std::map<std::string, double> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t routes = 10000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--routes=", 9) == 0) {
      routes = std::strtoul(argv[i] + 9, nullptr, 10);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      --i;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  Fixture f;
  fixture = &f;
  std::mt19937 rng(42);
  long hwmStart = vmKiB("VmHWM");
  f.config = makeConfig(routes, rng);
  long hwmConfig = vmKiB("VmHWM");
  auto t0 = std::chrono::steady_clock::now();
  auto built = router::Router::build(f.config, std::vector<std::uint32_t>(routes));
  auto t1 = std::chrono::steady_clock::now();
  if (!built) {
    std::fprintf(stderr, "router_bench: build failed: %s\n", built.errorText().c_str());
    return 1;
  }
  f.router = std::move(built.value());
  long hwmRouter = vmKiB("VmHWM");
  double buildMs = std::chrono::duration<double, std::milli>(t1 - t0).count();

  for (std::size_t i = 0; i < routes; ++i) {
    const core::Route& r = f.config.routes[i];
    std::vector<Request>* into = nullptr;
    if (r.paths.front()[0] == '~')
      into = &f.regex;
    else if (r.hosts.empty())
      into = &f.anyHostPrefix;
    else
      into = &f.hostPrefix;
    into->push_back(requestFor(f.config, i, rng));
  }
  std::shuffle(f.hostPrefix.begin(), f.hostPrefix.end(), rng);
  std::shuffle(f.regex.begin(), f.regex.end(), rng);
  for (int i = 0; i < 1000; ++i) {
    f.miss.push_back(Request{"GET", "nohost" + std::to_string(i) + ".example.com",
                             "/nothing/" + std::to_string(i), "", "", 0});
  }
  // How many requests land on the route they were made for (a higher-priority route may
  // rightly take some).
  auto onTarget = [&](const std::vector<Request>& rs) {
    std::size_t n = 0;
    for (const Request& r : rs) {
      auto m = f.router->match(viewOf(r));
      n += m && m.route->index == r.target;
    }
    return 100.0 * static_cast<double>(n) /
           static_cast<double>(std::max<std::size_t>(1, rs.size()));
  };
  std::printf(
      "router_bench: %zu routes (%zu host+prefix, %zu host-less prefix, %zu regex), built in "
      "%.1f ms\n",
      routes, f.hostPrefix.size(), f.anyHostPrefix.size(), f.regex.size(), buildMs);
  std::printf(
      "router_bench: VmHWM %ld KiB at start, %ld KiB with the config, %ld KiB after "
      "building the router (+%ld KiB)\n",
      hwmStart, hwmConfig, hwmRouter, hwmRouter - hwmConfig);
  std::printf(
      "router_bench: on-target matches: host+prefix %.1f%%, host-less prefix %.1f%%, "
      "regex %.1f%%\n",
      onTarget(f.hostPrefix), onTarget(f.anyHostPrefix), onTarget(f.regex));
  std::fflush(stdout);

  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const auto& med = reporter.medians();
  auto get = [&](const char* name) {
    auto it = med.find(name);
    return it == med.end() ? -1.0 : it->second;
  };
  std::printf(
      "router_bench: routes=%zu median ns/match host+prefix=%.0f hostless-prefix=%.0f "
      "regex=%.0f miss=%.0f build_ms=%.0f peak_rss_kib=%ld\n",
      routes, get("BM_MatchHostPrefix"), get("BM_MatchAnyHostPrefix"), get("BM_MatchRegex"),
      get("BM_MatchMiss"), buildMs, hwmRouter);
  return 0;
}
