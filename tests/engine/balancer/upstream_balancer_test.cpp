#include <QtTest>
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "balancer/upstream_balancer.h"
#include "net/dns_resolver.h"

using namespace archway;
using namespace archway::balancer;

namespace {

struct Built {
  core::Upstream upstream;
  std::vector<core::Target> targets;
  std::shared_ptr<const UpstreamBalancer> balancer;
};

// Targets "name:weight" pairs; the upstream is adjusted by `tweak` before building.
Built build(const std::string& algorithm, std::vector<std::pair<std::string, int>> targets,
            const std::function<void(core::Upstream&)>& tweak = {},
            std::shared_ptr<HealthState> health = nullptr, const Clock* clock = nullptr) {
  Built b;
  b.upstream.id = "u1";
  b.upstream.name = "backend";
  b.upstream.algorithm = algorithm;
  if (tweak) tweak(b.upstream);
  for (auto& [t, w] : targets) {
    core::Target target;
    target.upstreamId = "u1";
    target.target = t;
    target.weight = w;
    b.targets.push_back(target);
  }
  std::vector<const core::Target*> ptrs;
  for (const auto& t : b.targets) ptrs.push_back(&t);
  auto r = UpstreamBalancer::build(b.upstream, ptrs, std::move(health), {clock});
  if (!r) qFatal("%s", r.errorText().c_str());
  b.balancer = *r;
  return b;
}

std::string keyOf(const UpstreamBalancer& b, int i) {
  return i < 0 ? "none" : b.target(i).key;
}

struct Request {
  std::map<std::string, std::string> headers;
  HashInput input() const {
    HashInput in;
    in.context = this;
    in.header = [](const void* ctx, std::string_view name) -> std::string_view {
      const auto& h = static_cast<const Request*>(ctx)->headers;
      auto it = h.find(std::string(name));
      return it == h.end() ? std::string_view{} : std::string_view(it->second);
    };
    return in;
  }
};

// `ip` must outlive the returned input (it holds a view).
HashInput ipInput(const std::string& ip) {
  HashInput in;
  in.ip = ip;
  return in;
}

void passiveOneFailure(core::Upstream& u) {
  u.healthchecks.passive.unhealthyHttpFailures = 1;
}

}  // namespace

class UpstreamBalancerTest : public QObject {
  Q_OBJECT
 private slots:
  void parsesTargetAddresses() {
    auto a = parseTargetAddress("example.com");
    QVERIFY(a);
    QCOMPARE(a->port, 8000);
    QVERIFY(!a->isIp);
    QCOMPARE(a->text(), std::string("example.com:8000"));
    auto b = parseTargetAddress("[::1]:9000");
    QVERIFY(b && b->isIp);
    QCOMPARE(b->host, std::string("::1"));
    QCOMPARE(b->text(), std::string("[::1]:9000"));
    QVERIFY(parseTargetAddress("10.0.0.1:80")->isIp);
    QVERIFY(!parseTargetAddress("host:0"));
    QVERIFY(!parseTargetAddress("host:99999"));
    QVERIFY(!parseTargetAddress(":80"));
  }

  void rejectsUnknownAlgorithm() {
    core::Upstream u;
    u.algorithm = "random";
    auto r = UpstreamBalancer::build(u, {}, nullptr);
    QVERIFY(!r);
    QCOMPARE(r.errors().front().path, std::string("algorithm"));
  }

  void weightedRoundRobinIsExactOverACycle() {
    auto b = build("round-robin", {{"a:1", 5}, {"b:1", 3}, {"c:1", 2}});
    WorkerState s;
    std::map<std::string, int> counts;
    for (int i = 0; i < 100; ++i) ++counts[keyOf(*b.balancer, b.balancer->pick(s, {}))];
    QCOMPARE(counts["a:1"], 50);
    QCOMPARE(counts["b:1"], 30);
    QCOMPARE(counts["c:1"], 20);
  }

  void weightedRoundRobinIsSmooth() {
    // nginx's smooth sequence for 5:1:1 is a a b a c a a: the light targets are spread through
    // the cycle, and at every point each target's share stays within one pick of its weight
    // (a plain weighted wheel would send the five a's in a row).
    auto b = build("round-robin", {{"a:1", 5}, {"b:1", 1}, {"c:1", 1}});
    WorkerState s;
    std::string seq;
    std::map<char, int> counts;
    double worst = 0;
    const std::map<char, double> share{{'a', 5.0 / 7}, {'b', 1.0 / 7}, {'c', 1.0 / 7}};
    for (int n = 1; n <= 70; ++n) {
      char t = keyOf(*b.balancer, b.balancer->pick(s, {}))[0];
      seq += t;
      ++counts[t];
      for (auto [k, w] : share) worst = std::max(worst, std::abs(counts[k] - n * w));
    }
    QCOMPARE(seq.substr(0, 7), std::string("aabacaa"));
    QVERIFY2(worst < 1.0, seq.c_str());
  }

  void weightZeroGetsNoTraffic() {
    for (const char* algorithm :
         {"round-robin", "least-connections", "consistent-hashing", "latency"}) {
      auto b = build(algorithm, {{"a:1", 100}, {"zero:1", 0}, {"c:1", 10}});
      WorkerState s;
      for (int i = 0; i < 200; ++i) {
        const std::string ip = "10.0.0." + std::to_string(i % 250);
        auto in = ipInput(ip);
        int t = b.balancer->pick(s, in);
        QVERIFY(t >= 0);
        QVERIFY2(b.balancer->target(t).key != "zero:1", algorithm);
        b.balancer->onStart(s, t);
        b.balancer->recordLatency(s, t, std::chrono::milliseconds(1));
        b.balancer->onFinish(s, t);
      }
    }
  }

  void allWeightsZeroFailsFast() {
    auto b = build("round-robin", {{"a:1", 0}});
    WorkerState s;
    QCOMPARE(b.balancer->pick(s, {}), -1);
    QVERIFY(!b.balancer->health().healthy);
  }

  void leastConnectionsPrefersIdleTargets() {
    auto b = build("least-connections", {{"a:1", 100}, {"b:1", 100}, {"c:1", 100}});
    WorkerState s;
    std::set<int> busy;
    for (int i = 0; i < 3; ++i) {
      int t = b.balancer->pick(s, {});
      QVERIFY(!busy.count(t));
      busy.insert(t);
      b.balancer->onStart(s, t);
    }
    // Everyone has one connection; b finishes: it is now the only idle target.
    int bIndex = 1;
    b.balancer->onFinish(s, bIndex);
    for (int i = 0; i < 5; ++i) QCOMPARE(b.balancer->pick(s, {}), bIndex);
  }

  void leastConnectionsWeighsConnections() {
    // (active + 1) / weight: a target of weight 300 takes three connections per one of weight 100.
    auto b = build("least-connections", {{"big:1", 300}, {"small:1", 100}});
    WorkerState s;
    std::map<std::string, int> counts;
    for (int i = 0; i < 8; ++i) {
      int t = b.balancer->pick(s, {});
      b.balancer->onStart(s, t);
      ++counts[keyOf(*b.balancer, t)];
    }
    QCOMPARE(counts["big:1"], 6);
    QCOMPARE(counts["small:1"], 2);
  }

  void consistentHashingIsStableAcrossRebuilds() {
    auto setIp = [](core::Upstream& u) { u.hashOn = "ip"; };
    auto b1 = build("consistent-hashing", {{"a:1", 100}, {"b:1", 100}, {"c:1", 100}}, setIp);
    auto b2 = build("consistent-hashing", {{"a:1", 100}, {"b:1", 100}, {"c:1", 100}}, setIp);
    WorkerState s1, s2;
    std::set<std::string> used;
    for (int i = 0; i < 500; ++i) {
      const std::string ip = "192.168." + std::to_string(i / 200) + "." + std::to_string(i % 200);
      auto in = ipInput(ip);
      std::string first = keyOf(*b1.balancer, b1.balancer->pick(s1, in));
      QCOMPARE(keyOf(*b1.balancer, b1.balancer->pick(s1, in)), first);
      QCOMPARE(keyOf(*b2.balancer, b2.balancer->pick(s2, in)), first);
      used.insert(first);
    }
    QCOMPARE(used.size(), std::size_t(3));
  }

  void consistentHashingRemapsOnlyTheRemovedTargetsKeys() {
    auto setIp = [](core::Upstream& u) { u.hashOn = "ip"; };
    auto before = build("consistent-hashing",
                        {{"a:1", 100}, {"b:1", 100}, {"c:1", 100}, {"d:1", 100}}, setIp);
    auto after = build("consistent-hashing", {{"a:1", 100}, {"b:1", 100}, {"d:1", 100}}, setIp);
    WorkerState s1, s2;
    int moved = 0, onC = 0;
    for (int i = 0; i < 2000; ++i) {
      const std::string ip = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250);
      auto in = ipInput(ip);
      std::string was = keyOf(*before.balancer, before.balancer->pick(s1, in));
      std::string now = keyOf(*after.balancer, after.balancer->pick(s2, in));
      if (was == "c:1") {
        ++onC;
        QVERIFY(now != "c:1");
      } else {
        if (was != now) ++moved;
      }
    }
    QCOMPARE(moved, 0);
    QVERIFY(onC > 350 && onC < 650);  // about a quarter of 2000
  }

  void consistentHashingSharesSlotsByWeight() {
    auto b = build("consistent-hashing", {{"heavy:1", 300}, {"light:1", 100}},
                   [](core::Upstream& u) { u.hashOn = "ip"; });
    WorkerState s;
    int heavy = 0;
    for (int i = 0; i < 4000; ++i) {
      const std::string ip = "172.16." + std::to_string(i / 250) + "." + std::to_string(i % 250);
      auto in = ipInput(ip);
      if (keyOf(*b.balancer, b.balancer->pick(s, in)) == "heavy:1") ++heavy;
    }
    QVERIFY2(heavy > 2800 && heavy < 3200, std::to_string(heavy).c_str());
  }

  void consistentHashingMovesKeysOffUnhealthyTargetAndBack() {
    auto b = build("consistent-hashing", {{"a:1", 100}, {"b:1", 100}}, [](core::Upstream& u) {
      u.hashOn = "ip";
      passiveOneFailure(u);
    });
    WorkerState s;
    const std::string ip = "1.2.3.4";
    auto in = ipInput(ip);
    int home = b.balancer->pick(s, in);
    b.balancer->report(home, Outcome::http(500));
    int away = b.balancer->pick(s, in);
    QVERIFY(away >= 0 && away != home);
    b.balancer->healthState()->find(b.balancer->target(home).key)->set(true);
    QCOMPARE(b.balancer->pick(s, in), home);
  }

  void hashOnHeaderFallsBackToIp() {
    auto targets = std::vector<std::pair<std::string, int>>{
        {"a:1", 100}, {"b:1", 100}, {"c:1", 100}, {"d:1", 100}};
    auto byHeader = build("consistent-hashing", targets, [](core::Upstream& u) {
      u.hashOn = "header";
      u.hashOnHeader = "X-User";
      u.hashFallback = "ip";
    });
    auto byIp = build("consistent-hashing", targets, [](core::Upstream& u) { u.hashOn = "ip"; });
    WorkerState s1, s2;
    std::set<std::string> forOneUser;
    for (int i = 0; i < 50; ++i) {
      // Same header from many addresses: one target.
      Request r;
      r.headers["X-User"] = "alice";
      auto in = r.input();
      std::string ip = "10.9.0." + std::to_string(i);
      in.ip = ip;
      forOneUser.insert(keyOf(*byHeader.balancer, byHeader.balancer->pick(s1, in)));
      // No header: the client address decides, exactly as hashing on ip does.
      Request none;
      auto fallback = none.input();
      fallback.ip = ip;
      QCOMPARE(keyOf(*byHeader.balancer, byHeader.balancer->pick(s1, fallback)),
               keyOf(*byIp.balancer, byIp.balancer->pick(s2, ipInput(ip))));
    }
    QCOMPARE(forOneUser.size(), std::size_t(1));
  }

  void hashOnUriCaptureIsStableAndFallsBack() {
    auto targets = std::vector<std::pair<std::string, int>>{
        {"a:1", 100}, {"b:1", 100}, {"c:1", 100}, {"d:1", 100}};
    auto byCapture = [](core::Upstream& u) {
      u.hashOn = "uri_capture";
      u.hashOnUriCapture = "tenant";
      u.hashFallback = "ip";
    };
    auto b = build("consistent-hashing", targets, byCapture);
    auto rebuilt = build("consistent-hashing", targets, byCapture);
    auto byIp = build("consistent-hashing", targets, [](core::Upstream& u) { u.hashOn = "ip"; });
    auto byHeader = build("consistent-hashing", targets, [](core::Upstream& u) {
      u.hashOn = "header";
      u.hashOnHeader = "X-Tenant";
    });
    QVERIFY(b.balancer->hashesOnUriCapture());
    QVERIFY(!byIp.balancer->hashesOnUriCapture());
    // The route's named captures, as the proxy hands them over (in `headers` of a Request).
    auto captureInput = [](const Request& r) {
      HashInput in = r.input();
      in.uriCapture = in.header;
      in.header = nullptr;
      return in;
    };
    WorkerState s1, s2, s3, s4;
    std::set<std::string> spread;
    for (int t = 0; t < 40; ++t) {
      Request r;
      r.headers["tenant"] = "t" + std::to_string(t);
      std::set<std::string> forTenant;
      for (int i = 0; i < 10; ++i) {
        std::string ip = "10.1.0." + std::to_string(i);
        auto in = captureInput(r);
        in.ip = ip;
        forTenant.insert(keyOf(*b.balancer, b.balancer->pick(s1, in)));
        QCOMPARE(keyOf(*rebuilt.balancer, rebuilt.balancer->pick(s2, in)),
                 keyOf(*b.balancer, b.balancer->pick(s1, in)));
      }
      QCOMPARE(forTenant.size(), std::size_t(1));  // one capture value, one target
      spread.insert(*forTenant.begin());
      // The capture's value is the key: the same target as hashing a header with that value.
      Request h;
      h.headers["X-Tenant"] = r.headers["tenant"];
      QCOMPARE(keyOf(*byHeader.balancer, byHeader.balancer->pick(s3, h.input())),
               *forTenant.begin());
    }
    QVERIFY(spread.size() >= 3);  // different values do spread over the targets
    for (int i = 0; i < 20; ++i) {
      // No such capture (a prefix route, another group name): hash_fallback (ip) decides.
      std::string ip = "10.2.0." + std::to_string(i);
      Request other;
      other.headers["user"] = "x";
      auto in = captureInput(other);
      in.ip = ip;
      QCOMPARE(keyOf(*b.balancer, b.balancer->pick(s1, in)),
               keyOf(*byIp.balancer, byIp.balancer->pick(s4, ipInput(ip))));
      HashInput noCaptures = ipInput(ip);  // uriCapture callback absent altogether
      QCOMPARE(keyOf(*b.balancer, b.balancer->pick(s1, noCaptures)),
               keyOf(*byIp.balancer, byIp.balancer->pick(s4, ipInput(ip))));
    }
  }

  void hashFallbackOnUriCapture() {
    auto targets = std::vector<std::pair<std::string, int>>{{"a:1", 100}, {"b:1", 100},
                                                            {"c:1", 100}};
    auto b = build("consistent-hashing", targets, [](core::Upstream& u) {
      u.hashOn = "header";
      u.hashOnHeader = "X-User";
      u.hashFallback = "uri_capture";
      u.hashFallbackUriCapture = "id";
    });
    QVERIFY(b.balancer->hashesOnUriCapture());
    WorkerState s;
    Request caps;
    caps.headers["id"] = "17";
    HashInput in = caps.input();
    in.uriCapture = in.header;
    in.header = [](const void*, std::string_view) { return std::string_view{}; };
    const std::string first = keyOf(*b.balancer, b.balancer->pick(s, in));
    for (int i = 0; i < 20; ++i) QCOMPARE(keyOf(*b.balancer, b.balancer->pick(s, in)), first);
  }

  void latencyPrefersTheFasterTarget() {
    ManualClock clock;
    auto b = build("latency", {{"fast:1", 100}, {"slow:1", 100}}, {}, nullptr, &clock);
    WorkerState s;
    // Untried targets first: both get measured.
    std::set<int> first;
    for (int i = 0; i < 2; ++i) {
      int t = b.balancer->pick(s, {});
      b.balancer->onStart(s, t);
      first.insert(t);
    }
    QCOMPARE(first.size(), std::size_t(2));
    b.balancer->recordLatency(s, 0, std::chrono::milliseconds(10));
    b.balancer->recordLatency(s, 1, std::chrono::milliseconds(100));
    b.balancer->onFinish(s, 0);
    b.balancer->onFinish(s, 1);
    clock.advance(std::chrono::milliseconds(100));
    for (int i = 0; i < 20; ++i)
      QCOMPARE(keyOf(*b.balancer, b.balancer->pick(s, {})), std::string("fast:1"));
    // The fast one slows down: after enough slow samples the other one wins.
    for (int i = 0; i < 20; ++i) {
      clock.advance(std::chrono::seconds(1));
      b.balancer->recordLatency(s, 0, std::chrono::milliseconds(500));
    }
    QCOMPARE(keyOf(*b.balancer, b.balancer->pick(s, {})), std::string("slow:1"));
  }

  void retriesAvoidAlreadyTriedTargets_data() {
    QTest::addColumn<QString>("algorithm");
    for (const char* a : {"round-robin", "least-connections", "consistent-hashing", "latency"}) {
      QTest::newRow(a) << QString(a);
    }
  }
  void retriesAvoidAlreadyTriedTargets() {
    QFETCH(QString, algorithm);
    auto b = build(algorithm.toStdString(), {{"a:1", 100}, {"b:1", 100}, {"c:1", 100}},
                   [](core::Upstream& u) {
                     if (u.algorithm == "consistent-hashing") u.hashOn = "ip";
                   });
    WorkerState s;
    const std::string ip = "8.8.8.8";
    auto in = ipInput(ip);
    for (int round = 0; round < 10; ++round) {
      std::vector<int> tried;
      for (int attempt = 0; attempt < 3; ++attempt) {
        int t = b.balancer->pick(s, in, tried);
        QVERIFY(t >= 0);
        QVERIFY(std::find(tried.begin(), tried.end(), t) == tried.end());
        tried.push_back(t);
      }
      // Everything tried: a tried target is still better than failing.
      QVERIFY(b.balancer->pick(s, in, tried) >= 0);
    }
  }

  void unhealthyTargetsAreSkipped() {
    auto b = build("round-robin", {{"a:1", 100}, {"b:1", 100}}, passiveOneFailure);
    WorkerState s;
    b.balancer->report(0, Outcome::http(500));
    QVERIFY(!b.balancer->usable(0));
    for (int i = 0; i < 10; ++i) QCOMPARE(b.balancer->pick(s, {}), 1);
    b.balancer->report(1, Outcome::tcpFailure());  // tcp_failures = 0: disabled, ignored
    QCOMPARE(b.balancer->pick(s, {}), 1);
    b.balancer->report(1, Outcome::http(503));
    QCOMPARE(b.balancer->pick(s, {}), -1);
  }

  void healthFlagsIgnoredWhenChecksAreOff() {
    auto b = build("round-robin", {{"a:1", 100}, {"b:1", 100}});
    b.balancer->report(0, Outcome::http(500));  // no checks configured: no-op (Kong)
    b.balancer->healthState()->find("a:1")->set(false);
    WorkerState s;
    std::set<int> seen;
    for (int i = 0; i < 4; ++i) seen.insert(b.balancer->pick(s, {}));
    QCOMPARE(seen.size(), std::size_t(2));
  }

  void dnsErrorTargetsAreSkipped() {
    auto b = build("round-robin", {{"a.example:1", 100}, {"b.example:1", 100}});
    b.balancer->healthState()->setDnsError("a.example:1", true);
    WorkerState s;
    for (int i = 0; i < 4; ++i) QCOMPARE(b.balancer->pick(s, {}), 1);
    QCOMPARE(b.balancer->health().total, 100LL);
  }

  void thresholdTurnsTheWholeUpstreamUnhealthy_data() {
    QTest::addColumn<double>("threshold");
    QTest::addColumn<int>("downTargets");
    QTest::addColumn<bool>("serves");
    // Four targets of weight 100; Kong: available * 100 / total > threshold.
    QTest::newRow("0%, one down") << 0.0 << 1 << true;
    QTest::newRow("0%, all down") << 0.0 << 4 << false;
    QTest::newRow("50%, one down (75%)") << 50.0 << 1 << true;
    QTest::newRow("50%, two down (50%, not above)") << 50.0 << 2 << false;
    QTest::newRow("74%, one down (75%)") << 74.0 << 1 << true;
    QTest::newRow("75%, one down (75%, not above)") << 75.0 << 1 << false;
  }
  void thresholdTurnsTheWholeUpstreamUnhealthy() {
    QFETCH(double, threshold);
    QFETCH(int, downTargets);
    QFETCH(bool, serves);
    auto b = build("round-robin", {{"a:1", 100}, {"b:1", 100}, {"c:1", 100}, {"d:1", 100}},
                   [&](core::Upstream& u) {
                     passiveOneFailure(u);
                     u.healthchecks.threshold = threshold;
                   });
    for (int i = 0; i < downTargets; ++i) b.balancer->report(i, Outcome::http(500));
    WorkerState s;
    QCOMPARE(b.balancer->pick(s, {}) >= 0, serves);
    QCOMPARE(b.balancer->health().healthy, serves);
    QCOMPARE(b.balancer->health().unavailable, 100LL * downTargets);
  }

  void workerStateFollowsTargetsAcrossRebuilds() {
    auto v1 = build("least-connections", {{"a:1", 100}, {"b:1", 100}});
    WorkerState s;
    int a = 0;
    v1.balancer->onStart(s, a);
    v1.balancer->onStart(s, a);
    // New snapshot: a target added in front; a's connections are still counted.
    auto v2 = build("least-connections", {{"new:1", 100}, {"a:1", 100}, {"b:1", 100}});
    std::map<std::string, int> counts;
    for (int i = 0; i < 4; ++i) {
      int t = v2.balancer->pick(s, {});
      v2.balancer->onStart(s, t);
      ++counts[keyOf(*v2.balancer, t)];
    }
    QCOMPARE(counts["a:1"], 0);
    // Requests that started on v1 finish against v1: the counts land on "a:1" in v2's layout.
    v1.balancer->onFinish(s, a);
    v1.balancer->onFinish(s, a);
    QCOMPARE(keyOf(*v2.balancer, v2.balancer->pick(s, {})), std::string("a:1"));
  }

  void addressesOfANameShareItsTrafficByWeight() {
    // Kong: an SRV answer weighs its record's weight (0 counts as 1), an A answer the target's.
    auto b = build("round-robin", {{"svc.test:80", 100}, {"10.0.0.9:80", 15}});
    auto ip = [](const char* text) { return boost::asio::ip::make_address(text); };
    auto srv = std::make_shared<const std::vector<net::DnsAddress>>(std::vector<net::DnsAddress>{
        {ip("10.0.0.1"), 8001, 10}, {ip("10.0.0.2"), 8002, 4}, {ip("10.0.0.3"), 8003, 0}});
    WorkerState s;
    std::map<std::string, int> targets, addresses;
    for (int i = 0; i < 30; ++i) {
      const int t = b.balancer->pick(s, {});
      ++targets[keyOf(*b.balancer, t)];
      if (t == 0) ++addresses[(*srv)[b.balancer->pickAddress(s, t, srv)].ip.to_string()];
    }
    // The first pick weighs the name 100; once resolved it weighs 10 + 4 + 1 = 15, like the
    // other target.
    QCOMPARE(targets["svc.test:80"], 15);
    QCOMPARE(addresses["10.0.0.1"], 10);
    QCOMPARE(addresses["10.0.0.2"], 4);
    QCOMPARE(addresses["10.0.0.3"], 1);

    // A answers: each address weighs the target's 100.
    auto a = std::make_shared<const std::vector<net::DnsAddress>>(
        std::vector<net::DnsAddress>{{ip("10.0.1.1"), 0, 0}, {ip("10.0.1.2"), 0, 0}});
    WorkerState s2;
    QCOMPARE(b.balancer->pickAddress(s2, 0, a), 0);
    QCOMPARE(b.balancer->pickAddress(s2, 0, a), 1);
    targets.clear();
    for (int i = 0; i < 215; ++i) ++targets[keyOf(*b.balancer, b.balancer->pick(s2, {}))];
    QCOMPARE(targets["svc.test:80"], 200);
    QCOMPARE(targets["10.0.0.9:80"], 15);
  }

  void consistentHashingKeepsAKeyOnOneAddress() {
    auto b = build("consistent-hashing", {{"svc.test:80", 100}},
                   [](core::Upstream& u) { u.hashOn = "ip"; });
    std::vector<net::DnsAddress> list;
    for (int i = 1; i <= 4; ++i)
      list.push_back({boost::asio::ip::make_address("10.0.0." + std::to_string(i)), 80, 10});
    auto addresses = std::make_shared<const std::vector<net::DnsAddress>>(list);
    WorkerState s;
    std::set<int> seen;
    for (int client = 0; client < 40; ++client) {
      const std::string who = "192.0.2." + std::to_string(client);
      std::set<int> forThisKey;
      for (int i = 0; i < 3; ++i) {
        QCOMPARE(b.balancer->pick(s, ipInput(who)), 0);
        forThisKey.insert(b.balancer->pickAddress(s, 0, addresses));
      }
      QCOMPARE(forThisKey.size(), std::size_t(1));
      seen.insert(*forThisKey.begin());
    }
    QCOMPARE(seen.size(), std::size_t(4));  // the keys spread over every address
  }
};

QTEST_APPLESS_MAIN(UpstreamBalancerTest)
#include "upstream_balancer_test.moc"
