// HTTP/1.1 head parser cost on the heads the proxy sees most: a small nginx response, a wrk
// request, a browser-like request, and the nginx response arriving in 32-byte reads (resume
// cost). One parse per iteration into a head reused across iterations, as a connection does.
//
//   http_parser_bench [google benchmark flags]
//   http_parser_bench --fixed=N [--only=CASE]   run every case (or one) N times without timing,
//   for instruction counts:
//     valgrind --tool=callgrind --toggle-collect='archway::http::parse*'
//         build/bin/http_parser_bench --fixed=100000
//
// The closing line sums it up: ns per parse for each case.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/head_parser.h"

using namespace archway::http;

namespace {

constexpr std::string_view kNginxResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Fri, 27 Nov 2026 15:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 12\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

constexpr std::string_view kWrkRequest =
    "GET / HTTP/1.1\r\n"
    "Host: 127.0.0.1:8000\r\n"
    "\r\n";

constexpr std::string_view kBrowserRequest =
    "GET /api/v1/items/12345?include=owner&sort=-created HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://app.example.com/items\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=0123456789abcdef; theme=dark\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "Sec-Fetch-Site: same-site\r\n"
    "\r\n";

constexpr std::size_t kPiece = 32;

// Parses `text` whole; aborts if it does not parse, so a broken parser cannot look fast.
template <class Head, class Parse>
void parseWhole(std::string_view text, const Limits& limits, Head& head, Parse parse) {
  ParseError err;
  if (parse(text.data(), text.size(), limits, head, err) != ParseStatus::complete) {
    std::fprintf(stderr, "bench input did not parse: %.*s\n", int(err.message.size()),
                 err.message.data());
    std::abort();
  }
}

// Parses `text` as it would arrive in reads of kPiece bytes.
template <class Head, class Parse>
void parsePieces(std::string_view text, const Limits& limits, Head& head, Parse parse) {
  ParseError err;
  ParseStatus s = ParseStatus::incomplete;
  for (std::size_t have = 0; s == ParseStatus::incomplete && have < text.size();) {
    have = std::min(text.size(), have + kPiece);
    s = parse(text.data(), have, limits, head, err);
  }
  if (s != ParseStatus::complete) std::abort();
}

struct Case {
  const char* name;
  void (*run)(const Limits&, RequestHead&, ResponseHead&);
};

const Case kCases[] = {
    {"response_nginx",
     [](const Limits& l, RequestHead&, ResponseHead& r) {
       parseWhole(kNginxResponse, l, r, parseResponseHead);
     }},
    {"request_wrk",
     [](const Limits& l, RequestHead& q, ResponseHead&) {
       parseWhole(kWrkRequest, l, q, parseRequestHead);
     }},
    {"request_browser",
     [](const Limits& l, RequestHead& q, ResponseHead&) {
       parseWhole(kBrowserRequest, l, q, parseRequestHead);
     }},
    {"response_nginx_32B_reads",
     [](const Limits& l, RequestHead&, ResponseHead& r) {
       parsePieces(kNginxResponse, l, r, parseResponseHead);
     }},
};

void runCase(benchmark::State& state, const Case& c) {
  Limits limits;
  RequestHead request;
  ResponseHead response;
  request.reserve(limits);
  response.reserve(limits);
  for (auto _ : state) {
    benchmark::DoNotOptimize(kNginxResponse.data());
    c.run(limits, request, response);
    benchmark::ClobberMemory();
  }
}

// Keeps the per-case results so the closing line can sum them up.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // CPU time: the machines we bench on are shared. With repetitions, the median wins.
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Iteration && !ns_.count(r.run_name.function_name))
        ns_[r.run_name.function_name] = r.GetAdjustedCPUTime();
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")
        ns_[r.run_name.function_name] = r.GetAdjustedCPUTime();
    }
  }
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  long fixed = -1;
  std::string_view only;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--fixed=", 8) == 0) fixed = std::strtol(argv[i] + 8, nullptr, 10);
    if (std::strncmp(argv[i], "--only=", 7) == 0) only = argv[i] + 7;
  }
  if (fixed >= 0) {
    Limits limits;
    RequestHead request;
    ResponseHead response;
    request.reserve(limits);
    response.reserve(limits);
    for (const Case& c : kCases) {
      if (!only.empty() && only != c.name) continue;
      for (long k = 0; k < fixed; ++k) c.run(limits, request, response);
      std::printf("ran %s %ld times\n", c.name, fixed);
    }
    return 0;
  }
  for (const Case& c : kCases)
    benchmark::RegisterBenchmark(c.name, [&c](benchmark::State& s) { runCase(s, c); });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf("http_parser:");
  for (const Case& c : kCases) {
    const auto it = reporter.ns_.find(c.name);
    if (it != reporter.ns_.end()) std::printf(" %s %.1f ns", c.name, it->second);
  }
  std::printf(" (per parse)\n");
  return 0;
}
