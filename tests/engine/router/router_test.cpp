#include <re2/re2.h>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <tuple>

#include "config/declarative.h"
#include "router/router.h"

using namespace archway;

namespace {

struct Built {
  core::Config config;
  std::unique_ptr<router::Router> router;
};

Built build(const std::string& yaml) {
  auto c =
      config::parseDeclarative("_format_version: '3.0'\nservices: [{name: s, host: up}]\n" + yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  Built b{std::move(*c), nullptr};
  std::vector<std::uint32_t> routeSlots(b.config.routes.size());
  for (std::size_t i = 0; i < routeSlots.size(); ++i) routeSlots[i] = static_cast<std::uint32_t>(i);
  auto r = router::Router::build(b.config, routeSlots);
  if (!r) qFatal("%s", r.errorText().c_str());
  b.router = std::move(r.value());
  return b;
}

std::string matchName(const Built& b, std::string_view method, std::string_view host,
                      std::string_view path,
                      const std::map<std::string, std::string>& headers = {}) {
  router::RequestView v;
  v.method = method;
  v.host = host;
  v.path = path;
  v.headerContext = &headers;
  v.header = [](const void* ctx, std::string_view name) -> std::string_view {
    const auto& h = *static_cast<const std::map<std::string, std::string>*>(ctx);
    auto it = h.find(std::string(name));
    return it == h.end() ? std::string_view{} : std::string_view(it->second);
  };
  auto m = b.router->match(v);
  return m ? m.route->route->name.value_or("?") : std::string("none");
}

// The oracle for the differential tests: the router as it was before it had indexes, a linear
// scan over one matcher per regex path and per prefix length, stable-sorted by Kong's priority
// tuple; the first matcher whose conditions all hold wins.
class ReferenceRouter {
 public:
  struct Result {
    long configIndex = -1;
    std::size_t length = 0;
    bool operator==(const Result&) const = default;
  };

  explicit ReferenceRouter(const core::Config& config) {
    for (std::size_t i = 0; i < config.routes.size(); ++i) {
      const core::Route& route = config.routes[i];
      const core::Service* service =
          route.serviceId ? config.findService(*route.serviceId) : nullptr;
      if (service && !service->enabled) continue;
      if (std::none_of(route.protocols.begin(), route.protocols.end(),
                       [](const std::string& p) { return p == "http" || p == "https"; })) {
        continue;
      }
      int weight = !route.methods.empty() + !route.hosts.empty() + !route.headers.empty() +
                   !route.paths.empty();
      bool plain = !route.hosts.empty() &&
                   std::none_of(route.hosts.begin(), route.hosts.end(), [](const std::string& h) {
                     return h.find('*') != std::string::npos;
                   });
      int headerCount = std::min<int>(255, static_cast<int>(route.headers.size()));
      RefMatcher base{i, &route, {weight, plain, headerCount, 0, 0, 0}, {}, nullptr, true, {}};
      for (const std::string& h : route.hosts) base.hosts.push_back(lower(h));
      if (route.paths.empty()) {
        matchers_.push_back(base);
        continue;
      }
      std::vector<std::size_t> lengths;
      for (const std::string& path : route.paths) {
        if (!path.empty() && path[0] == '~') {
          RefMatcher m = base;
          m.anyPath = false;
          m.regex = std::make_shared<re2::RE2>(path.substr(1));
          std::get<3>(m.priority) = 1;
          std::get<4>(m.priority) = route.regexPriority;
          matchers_.push_back(m);
        } else if (std::find(lengths.begin(), lengths.end(), path.size()) == lengths.end()) {
          lengths.push_back(path.size());
        }
      }
      for (std::size_t len : lengths) {
        RefMatcher m = base;
        m.anyPath = false;
        for (const std::string& path : route.paths) {
          if ((path.empty() || path[0] != '~') && path.size() == len) m.prefixes.push_back(path);
        }
        std::get<5>(m.priority) = len;
        matchers_.push_back(m);
      }
    }
    std::stable_sort(
        matchers_.begin(), matchers_.end(),
        [](const RefMatcher& a, const RefMatcher& b) { return a.priority > b.priority; });
  }

  Result match(const std::string& method, const std::string& host, const std::string& path,
               const std::map<std::string, std::string>& headers) const {
    const std::string lowerHost = lower(host);
    for (const RefMatcher& m : matchers_) {
      const core::Route& r = *m.route;
      if (!r.methods.empty() &&
          std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end())
        continue;
      if (!m.hosts.empty() &&
          std::none_of(m.hosts.begin(), m.hosts.end(),
                       [&](const std::string& p) { return hostMatches(p, lowerHost); })) {
        continue;
      }
      bool headersHold = true;
      for (const auto& [name, values] : r.headers) {
        auto it = headers.find(name);
        if (it == headers.end() || it->second.empty() ||
            std::none_of(values.begin(), values.end(),
                         [&](const std::string& v) { return lower(v) == lower(it->second); })) {
          headersHold = false;
        }
      }
      if (!headersHold) continue;
      if (m.anyPath) return {static_cast<long>(m.configIndex), 0};
      if (m.regex) {
        re2::StringPiece whole;
        if (m.regex->Match(path, 0, path.size(), re2::RE2::ANCHOR_START, &whole, 1))
          return {static_cast<long>(m.configIndex), whole.size()};
        continue;
      }
      for (const std::string& prefix : m.prefixes) {
        if (path.compare(0, prefix.size(), prefix) == 0)
          return {static_cast<long>(m.configIndex), prefix.size()};
      }
    }
    return {};
  }

 private:
  struct RefMatcher {
    std::size_t configIndex;
    const core::Route* route;
    std::tuple<int, int, int, int, long long, std::size_t> priority;
    std::vector<std::string> prefixes;
    std::shared_ptr<re2::RE2> regex;
    bool anyPath;
    std::vector<std::string> hosts;  // lower case
  };

  static std::string lower(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
  }

  // Kong host rules: "*.example.com" needs at least one label before the suffix, "example.*"
  // exactly one label after; a pattern with a port is compared with the Host's port. Both are
  // lower case.
  static bool hostMatches(const std::string& p, std::string_view host) {
    bool withPort = p.find(':') != std::string::npos && p.find(']') == std::string::npos;
    if (!withPort && !host.empty() && host.front() != '[') {
      if (auto colon = host.rfind(':'); colon != std::string_view::npos)
        host = host.substr(0, colon);
    }
    std::string_view h = host;
    if (p.rfind("*.", 0) == 0) {
      std::string suffix = p.substr(1);
      return h.size() > suffix.size() &&
             h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
    if (p.size() >= 2 && p.compare(p.size() - 2, 2, ".*") == 0) {
      if (withPort) return false;
      std::string head = p.substr(0, p.size() - 1);
      return h.size() > head.size() && h.compare(0, head.size(), head) == 0 &&
             h.find('.', head.size()) == std::string::npos;
    }
    return h == p;
  }

  std::vector<RefMatcher> matchers_;
};

struct Request {
  std::string method;
  std::string host;
  std::string path;
  std::map<std::string, std::string> headers;
};

std::string describe(const Request& q) {
  std::string s = q.method + " " + q.host + " " + q.path;
  for (const auto& [k, v] : q.headers) s += " " + k + "=" + v;
  return s;
}

ReferenceRouter::Result matchIndexed(const router::Router& r, const Request& q) {
  router::RequestView v;
  v.method = q.method;
  v.host = q.host;
  v.path = q.path;
  v.headerContext = &q.headers;
  v.header = [](const void* ctx, std::string_view name) -> std::string_view {
    const auto& h = *static_cast<const std::map<std::string, std::string>*>(ctx);
    auto it = h.find(std::string(name));
    return it == h.end() ? std::string_view{} : std::string_view(it->second);
  };
  auto m = r.match(v);
  if (!m) return {};
  return {static_cast<long>(m.route->index), m.matchedLength};
}

template <class T>
const T& pick(std::mt19937& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
}

bool chance(std::mt19937& rng, double p) {
  return std::bernoulli_distribution(p)(rng);
}

std::string randomCase(std::mt19937& rng, std::string s) {
  if (chance(rng, 0.8)) return s;
  for (char& c : s) {
    if (c >= 'a' && c <= 'z' && chance(rng, 0.5)) c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

// Vocabularies small enough that routes collide on hosts, paths and priorities (ties are broken
// by config order), with the edge cases of each rule: ports, IPv6, byte prefixes, empty values.
const std::vector<std::string> kLabels{"a", "b", "api", "www", "x-1", "foo"};
const std::vector<std::string> kDomains{"example.com", "example.org", "test.io", "foo.example.com",
                                        "com"};
const std::vector<std::string> kPorts{":8000", ":8443", ":80"};
const std::vector<std::string> kSegments{"/api",   "/ap",  "/api/v1", "/api/v1/users",
                                         "/users", "/u",   "/items",  "/",
                                         "/API",   "/foo", "/foo/baz"};
const std::vector<std::string> kRegexes{"/users/\\d+",
                                        "/api/v[0-9]+/.*",
                                        "/a",
                                        "/items/(?P<id>[^/]+)$",
                                        "/api$",
                                        "/(foo|bar)/baz",
                                        "/[a-z]+/\\d{2,}",
                                        "/API/.*",
                                        ".*",
                                        "/users/1\\d*",
                                        "/u(sers)?",
                                        "/items/[a-c]+",
                                        "/api/v1/users/\\d+",
                                        "(?i)/api",
                                        "/foo/",
                                        ""};
const std::vector<std::string> kMethods{"GET", "POST", "PUT", "DELETE", "get", "PURGE"};

std::string denseHost(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0:
      return "*." + pick(rng, kDomains) + (chance(rng, 0.2) ? pick(rng, kPorts) : "");
    case 1:
      return pick(rng, std::vector<std::string>{"example.*", "api.example.*", "foo.*", "com.*"}) +
             (chance(rng, 0.1) ? ":8000" : "");
    case 2:
      return pick(rng, std::vector<std::string>{"[::1]", "[::1]:8000", "127.0.0.1",
                                                "127.0.0.1:8000", "*", "*.*"});
    default:
      return randomCase(rng, pick(rng, kLabels) + "." + pick(rng, kDomains)) +
             (chance(rng, 0.2) ? pick(rng, kPorts) : "");
  }
}

std::string requestHost(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0:
      return "";
    case 1:
      return pick(rng, std::vector<std::string>{"[::1]", "[::1]:8000", "127.0.0.1:8000",
                                                "example.org", "example", ".com", "a..com",
                                                "x.y.z.foo.example.com:8000", ":8000"});
    default: {
      std::string h;
      int labels = std::uniform_int_distribution<int>(0, 2)(rng);
      for (int i = 0; i < labels; ++i) h += pick(rng, kLabels) + ".";
      h += pick(rng, kDomains);
      return randomCase(rng, h) + (chance(rng, 0.3) ? pick(rng, kPorts) : "");
    }
  }
}

std::string requestPath(std::mt19937& rng) {
  std::string p = chance(rng, 0.02) ? "" : pick(rng, kSegments);
  int extra = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int i = 0; i < extra; ++i) {
    p += pick(rng, std::vector<std::string>{"/", "x", "/42", "/123", "/abc", "/v2", "/baz",
                                            "/users", "s", "/1"});
  }
  return p;
}

core::Config randomConfig(std::mt19937& rng, std::size_t routes, bool dense) {
  core::Config c;
  c.services.push_back(core::Service{.id = "s-on", .host = "up"});
  c.services.push_back(core::Service{.id = "s-off", .host = "up", .enabled = false});
  for (std::size_t i = 0; i < routes; ++i) {
    core::Route r;
    r.id = "r" + std::to_string(i);
    r.serviceId = chance(rng, 0.03) ? "s-off" : "s-on";
    if (chance(rng, 0.02)) r.protocols = {"grpc"};
    if (chance(rng, 0.3)) {
      int n = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int k = 0; k < n; ++k) r.methods.push_back(pick(rng, kMethods));
    }
    if (chance(rng, 0.7)) {
      int n = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int k = 0; k < n; ++k) {
        r.hosts.push_back(dense ? denseHost(rng)
                                : (chance(rng, 0.8)
                                       ? "h" + std::to_string(rng() % (routes / 2)) + ".example.com"
                                       : denseHost(rng)));
      }
    }
    if (chance(rng, 0.85)) {
      int n = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int k = 0; k < n; ++k) {
        if (chance(rng, 0.12)) {
          r.paths.push_back("~" + pick(rng, kRegexes));
        } else if (dense) {
          r.paths.push_back(pick(rng, kSegments));
        } else {
          r.paths.push_back(pick(rng, kSegments) + "/p" + std::to_string(rng() % 50));
        }
      }
      r.regexPriority = std::uniform_int_distribution<int>(-1, 3)(rng);
    }
    if (chance(rng, 0.15)) {
      r.headers["x-version"] = {"beta", "Canary"};
      if (chance(rng, 0.3)) r.headers["x-env"] = {"prod"};
    }
    c.routes.push_back(std::move(r));
  }
  return c;
}

Request randomRequest(std::mt19937& rng, const core::Config& c, bool dense) {
  Request q;
  q.method = pick(rng, kMethods);
  q.path = requestPath(rng);
  if (!dense && chance(rng, 0.5)) {
    // Aim at a configured route so that host buckets and long prefixes are hit, not only missed.
    const core::Route& r = pick(rng, c.routes);
    q.host = r.hosts.empty() ? requestHost(rng) : randomCase(rng, r.hosts.front());
    if (!r.paths.empty() && r.paths.front()[0] != '~') q.path = r.paths.front() + requestPath(rng);
  } else {
    q.host = requestHost(rng);
  }
  if (chance(rng, 0.3))
    q.headers["x-version"] = pick(rng, std::vector<std::string>{"BETA", "canary", "stable", ""});
  if (chance(rng, 0.2))
    q.headers["x-env"] = pick(rng, std::vector<std::string>{"prod", "PROD", "dev"});
  return q;
}

// Builds `routes` random routes and checks `requests` random requests against the oracle.
void checkAgainstReference(unsigned seed, std::size_t routes, std::size_t requests, bool dense) {
  std::mt19937 rng(seed);
  core::Config c = randomConfig(rng, routes, dense);
  std::vector<std::uint32_t> statsSlots(c.routes.size());
  auto built = router::Router::build(c, statsSlots);
  QVERIFY2(built.ok(), built.ok() ? "" : built.errorText().c_str());
  const router::Router& indexed = *built.value();
  ReferenceRouter reference(c);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < requests; ++i) {
    Request q = randomRequest(rng, c, dense);
    auto want = reference.match(q.method, q.host, q.path, q.headers);
    auto got = matchIndexed(indexed, q);
    if (!(got == want)) {
      QFAIL(qPrintable(QString("seed %1 request %2 [%3]: router gave route %4 length %5, linear "
                               "scan route %6 length %7")
                           .arg(seed)
                           .arg(i)
                           .arg(QString::fromStdString(describe(q)))
                           .arg(got.configIndex)
                           .arg(got.length)
                           .arg(want.configIndex)
                           .arg(want.length)));
    }
    matched += want.configIndex >= 0;
  }
  // The generator must exercise matches, not only misses.
  QVERIFY(matched > requests / 4);
}

}  // namespace

class RouterTest : public QObject {
  Q_OBJECT
 private slots:
  // Kong traditional_compatible priority cases (kong-reference §4.2).
  void followsKongPriority_data() {
    QTest::addColumn<QString>("routes");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("expected");
    const QString prefixes =
        "routes:\n- {name: root, paths: [/], service: s}\n- {name: api, paths: [/api], service: "
        "s}\n"
        "- {name: apiv1, paths: [/api/v1], service: s}\n";
    QTest::newRow("longest prefix wins") << prefixes << "GET"
                                         << "x"
                                         << "/api/v1/users"
                                         << "apiv1";
    QTest::newRow("shorter prefix") << prefixes << "GET"
                                    << "x"
                                    << "/api/v2"
                                    << "api";
    QTest::newRow("prefix is not a word boundary") << prefixes << "GET"
                                                   << "x"
                                                   << "/apix"
                                                   << "api";
    QTest::newRow("catch-all") << prefixes << "GET"
                               << "x"
                               << "/other"
                               << "root";
    const QString weights =
        "routes:\n- {name: path-only, paths: [/p], service: s}\n"
        "- {name: path-method, paths: [/p], methods: [POST], service: s}\n";
    QTest::newRow("more fields win") << weights << "POST"
                                     << "x"
                                     << "/p"
                                     << "path-method";
    QTest::newRow("method must match") << weights << "GET"
                                       << "x"
                                       << "/p"
                                       << "path-only";
    const QString hosts =
        "routes:\n- {name: wild, hosts: ['*.example.com'], service: s}\n"
        "- {name: plain, hosts: [api.example.com], service: s}\n"
        "- {name: tld, hosts: ['example.*'], service: s}\n";
    QTest::newRow("plain host over wildcard") << hosts << "GET"
                                              << "api.example.com"
                                              << "/"
                                              << "plain";
    QTest::newRow("suffix wildcard") << hosts << "GET"
                                     << "a.b.example.com"
                                     << "/"
                                     << "wild";
    QTest::newRow("host port ignored") << hosts << "GET"
                                       << "api.example.com:8000"
                                       << "/"
                                       << "plain";
    QTest::newRow("host case-insensitive") << hosts << "GET"
                                           << "API.Example.COM"
                                           << "/"
                                           << "plain";
    QTest::newRow("prefix wildcard") << hosts << "GET"
                                     << "example.org"
                                     << "/"
                                     << "tld";
    QTest::newRow("no host") << hosts << "GET"
                             << "other.org"
                             << "/"
                             << "none";
    const QString regex =
        "routes:\n- {name: prefix, paths: [/users/profile], service: s}\n"
        "- {name: re-low, paths: ['~/users/\\d+'], service: s}\n"
        "- {name: re-high, paths: ['~/users/1\\d*'], regex_priority: 5, service: s}\n";
    QTest::newRow("regex before prefix") << regex << "GET"
                                         << "x"
                                         << "/users/42"
                                         << "re-low";
    QTest::newRow("regex_priority orders regexes") << regex << "GET"
                                                   << "x"
                                                   << "/users/12"
                                                   << "re-high";
    QTest::newRow("prefix when no regex matches") << regex << "GET"
                                                  << "x"
                                                  << "/users/profile"
                                                  << "prefix";
    QTest::newRow("regex anchored at start") << regex << "GET"
                                             << "x"
                                             << "/x/users/42"
                                             << "none";
    const QString headers =
        "routes:\n- {name: any, paths: [/h], service: s}\n"
        "- {name: beta, paths: [/h], headers: {x-version: [beta, Canary]}, service: s}\n";
    QTest::newRow("header value matches") << headers << "GET"
                                          << "x"
                                          << "/h"
                                          << "any";
  }
  void followsKongPriority() {
    QFETCH(QString, routes);
    QFETCH(QString, method);
    QFETCH(QString, host);
    QFETCH(QString, path);
    QFETCH(QString, expected);
    auto b = build(routes.toStdString());
    QCOMPARE(QString::fromStdString(
                 matchName(b, method.toStdString(), host.toStdString(), path.toStdString())),
             expected);
  }

  void headersAreAndedValuesOred() {
    auto b = build(
        "routes:\n- {name: any, paths: [/h], service: s}\n"
        "- {name: beta, paths: [/h], headers: {x-version: [beta, canary]}, service: s}\n");
    QCOMPARE(matchName(b, "GET", "x", "/h", {{"x-version", "Canary"}}), std::string("beta"));
    QCOMPARE(matchName(b, "GET", "x", "/h", {{"x-version", "stable"}}), std::string("any"));
  }

  void reportsMatchedPrefixLength() {
    auto b = build("routes:\n- {name: api, paths: [/api], service: s}\n");
    router::RequestView v;
    v.method = "GET";
    v.path = "/api/users";
    auto m = b.router->match(v);
    QVERIFY(m);
    QCOMPARE(m.matchedLength, std::size_t{4});
  }

  void leavesOutRoutesOfDisabledServices() {
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices: [{name: off, host: up, enabled: false, routes: [{name: "
        "r, paths: [/]}]}]\n");
    QVERIFY(c.ok());
    auto r = router::Router::build(*c, {0});
    QVERIFY(r.ok());
    QCOMPARE(r.value()->size(), std::size_t{0});
  }

  void matchesLikeLinearScanOnDenseRandomRoutes() {
    for (unsigned seed : {1u, 2u, 3u}) checkAgainstReference(seed, 2000, 20000, true);
  }

  void matchesLikeLinearScanOnSparseRandomRoutes() {
    for (unsigned seed : {11u, 12u}) checkAgainstReference(seed, 2000, 20000, false);
  }

  void matchesConcurrentlyFromManyThreads() {
    std::mt19937 rng(7);
    core::Config c = randomConfig(rng, 500, true);
    auto built = router::Router::build(c, std::vector<std::uint32_t>(c.routes.size()));
    QVERIFY(built.ok());
    const router::Router& r = *built.value();
    std::vector<Request> requests;
    std::vector<ReferenceRouter::Result> expected;
    for (int i = 0; i < 2000; ++i) {
      requests.push_back(randomRequest(rng, c, true));
      expected.push_back(matchIndexed(r, requests.back()));
    }
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 5; ++round) {
          for (std::size_t i = 0; i < requests.size(); ++i) {
            std::size_t k = (i * 7 + static_cast<std::size_t>(t) * 13) % requests.size();
            if (!(matchIndexed(r, requests[k]) == expected[k])) ++mismatches;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    QCOMPARE(mismatches.load(), 0);
  }

  void reportsRegexMatchLength() {
    auto b = build(
        "routes:\n- {name: re, paths: ['~/users/\\d+'], service: s}\n"
        "- {name: re2, paths: ['~/users/\\d+'], methods: [POST], service: s}\n");
    Request q{"POST", "x", "/users/123/items", {}};
    auto got = matchIndexed(*b.router, q);
    QCOMPARE(got.configIndex, 1L);
    QCOMPARE(got.length, std::size_t{10});
    q.method = "GET";
    got = matchIndexed(*b.router, q);
    QCOMPARE(got.configIndex, 0L);
    QCOMPARE(got.length, std::size_t{10});
  }

  void hostRulesAtTheEdges_data() {
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("expected");
    QTest::newRow("suffix needs a label") << ".example.com"
                                          << "none";
    QTest::newRow("suffix with port pattern") << "a.example.com:8443"
                                              << "wild-port";
    QTest::newRow("suffix port pattern needs the port") << "a.example.com"
                                                        << "wild";
    QTest::newRow("exact with port") << "API.example.com:8000"
                                     << "plain-port";
    QTest::newRow("exact port differs") << "api.example.com:9000"
                                        << "plain";
    QTest::newRow("prefix wildcard takes one label") << "example.co.uk"
                                                     << "none";
    QTest::newRow("prefix wildcard with port pattern never matches") << "test.io"
                                                                     << "none";
    QTest::newRow("ipv6 keeps its port") << "[::1]:8000"
                                         << "v6";
    QTest::newRow("empty host") << ""
                                << "none";
  }
  void hostRulesAtTheEdges() {
    QFETCH(QString, host);
    QFETCH(QString, expected);
    auto b = build(
        "routes:\n- {name: wild, hosts: ['*.example.com'], service: s}\n"
        "- {name: wild-port, hosts: ['*.example.com:8443'], methods: [GET], service: s}\n"
        "- {name: plain, hosts: [api.example.com], service: s}\n"
        "- {name: plain-port, hosts: ['api.example.com:8000'], methods: [GET], service: s}\n"
        "- {name: tld, hosts: ['example.*', 'test.*:80'], service: s}\n"
        "- {name: v6, hosts: ['[::1]:8000'], service: s}\n");
    QCOMPARE(QString::fromStdString(matchName(b, "GET", host.toStdString(), "/")), expected);
  }

  void methodsAreCaseSensitive() {
    auto b = build(
        "routes:\n- {name: get, paths: [/], methods: [GET], service: s}\n"
        "- {name: purge, paths: [/], methods: [PURGE], service: s}\n");
    QCOMPARE(matchName(b, "GET", "x", "/"), std::string("get"));
    QCOMPARE(matchName(b, "get", "x", "/"), std::string("none"));
    QCOMPARE(matchName(b, "PURGE", "x", "/"), std::string("purge"));
  }

  void equalPrioritiesKeepConfigOrder() {
    auto b = build(
        "routes:\n- {name: first, hosts: [a.example.com], paths: [/x], service: s}\n"
        "- {name: second, hosts: [b.example.com, a.example.com], paths: [/y, /x], service: s}\n");
    QCOMPARE(matchName(b, "GET", "a.example.com", "/x"), std::string("first"));
    QCOMPARE(matchName(b, "GET", "a.example.com", "/y"), std::string("second"));
    QCOMPARE(matchName(b, "GET", "b.example.com", "/x"), std::string("second"));
  }

  void extractsNamedAndNumberedCapturesOfTheWinningRegex() {
    auto b = build(
        "routes:\n- {name: other, paths: ['~/users/(?P<name>[a-z]+)$'], service: s}\n"
        "- {name: re, paths: ['~/users/(?P<id>\\d+)(/(\\w+))?(/(?P<opt>x))?'], service: s}\n");
    router::RequestView v;
    v.method = "GET";
    v.host = "x";
    v.path = "/users/42/items/more";
    auto m = b.router->match(v);
    QVERIFY(m.byRegex());
    QCOMPARE(*m.route->route->name, std::string("re"));
    router::Captures c;
    QVERIFY(b.router->captures(m, v.path, c));
    QCOMPARE(c.size(), std::size_t{6});
    QCOMPARE(c.group(0), std::string_view("/users/42/items"));
    QCOMPARE(c.group(1), std::string_view("42"));
    QCOMPARE(c.group(3), std::string_view("items"));
    QCOMPARE(c.named("id"), std::string_view("42"));
    // An optional group that took no part in the match is absent, not empty.
    QVERIFY(!c.has(5));
    std::string_view opt;
    QVERIFY(!c.find("opt", opt));
    QVERIFY(!c.find("name", opt));  // the other route's group
    // The views point into the matched path: no copies.
    QCOMPARE(static_cast<const void*>(c.group(1).data()),
             static_cast<const void*>(v.path.data() + 7));

    // The same object refilled by another request keeps no stale group.
    v.path = "/users/abc";
    m = b.router->match(v);
    QCOMPARE(*m.route->route->name, std::string("other"));
    QVERIFY(b.router->captures(m, v.path, c));
    QCOMPARE(c.size(), std::size_t{2});
    QCOMPARE(c.named("name"), std::string_view("abc"));
    QCOMPARE(c.named("id"), std::string_view());
    QVERIFY(!c.has(2));
  }

  void prefixAndPathlessRoutesHaveNoCaptures() {
    auto b = build(
        "routes:\n- {name: p, paths: [/users], service: s}\n"
        "- {name: any, hosts: [h.example], service: s}\n"
        "- {name: re, paths: ['~/users/(?P<id>\\d+)'], hosts: [r.example], service: s}\n");
    router::Captures c;
    router::RequestView v;
    v.method = "GET";
    v.host = "r.example";
    v.path = "/users/7";
    auto m = b.router->match(v);
    QVERIFY(b.router->captures(m, v.path, c));
    QCOMPARE(c.named("id"), std::string_view("7"));
    v.host = "x";
    m = b.router->match(v);
    QCOMPARE(*m.route->route->name, std::string("p"));
    QVERIFY(!m.byRegex());
    QVERIFY(!b.router->captures(m, v.path, c));
    QVERIFY(c.empty());
    QCOMPARE(c.named("id"), std::string_view());
    v.host = "h.example";
    v.path = "/other";
    m = b.router->match(v);
    QCOMPARE(*m.route->route->name, std::string("any"));
    QVERIFY(!b.router->captures(m, v.path, c));
  }

  void rejectsInvalidRegexWithItsPath() {
    auto c = config::parseDeclarative("_format_version: '3.0'\nroutes: [{paths: ['~/a(']}]\n");
    QVERIFY(c.ok());
    auto r = router::Router::build(*c, {0});
    QVERIFY(!r.ok());
    QCOMPARE(r.errors().front().path, std::string("routes[0].paths[0]"));
  }
};

QTEST_GUILESS_MAIN(RouterTest)
#include "router_test.moc"
