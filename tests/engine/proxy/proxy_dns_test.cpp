// Hostnames of services and upstream targets through the proxy, against a real UDP DNS server
// on loopback: SRV ports, re-resolution when the TTL runs out, stale addresses while the
// nameserver fails, and Kong's 503 "name resolution failed".
#include <QtTest>
#include <functional>

#include "../net/dns_test_server.h"
#include "config/declarative.h"
#include "runtime/engine.h"
#include "test_upstream.h"

using namespace archway;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNameResolution = "{\"message\":\"name resolution failed\"}";

// An engine with `yaml` whose names resolve through `dns` only; `tweak` adjusts the options.
std::unique_ptr<runtime::Engine> launch(
    const DnsTestServer& dns, const std::string& yaml,
    const std::function<void(runtime::EngineOptions&)>& tweak = {}) {
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "off";
  o.workers = 1;
  o.dns.nameservers = {dns.address()};
  o.dns.hostsFile = "";
  if (tweak) tweak(o);
  auto e = std::make_unique<runtime::Engine>();
  auto s = e->start(o, std::move(*c));
  if (!s) qFatal("%s", s.errorText().c_str());
  return e;
}

std::unique_ptr<runtime::Engine> startEngine(const DnsTestServer& dns, const std::string& host,
                                             unsigned short port) {
  return launch(dns,
                "_format_version: '3.0'\nservices:\n- name: svc\n  host: " + host +
                    "\n  port: " + std::to_string(port) +
                    "\n  retries: 0\n  connect_timeout: 1000\n  routes: [{name: r, paths: [/]}]\n",
                [](runtime::EngineOptions& o) {
                  o.dns.timeout = 1s;
                  o.dns.attempts = 1;
                  o.dns.staleTtl = 2s;
                  o.dns.errorTtl = 1s;
                });
}

// An upstream `backend` with `targets` (YAML list items) behind service svc.
std::unique_ptr<runtime::Engine> startUpstream(const DnsTestServer& dns,
                                               const std::string& targets) {
  return launch(dns,
                "_format_version: '3.0'\nservices:\n- name: svc\n  host: backend\n  retries: 1\n"
                "  routes: [{name: r, paths: [/]}]\nupstreams:\n- name: backend\n  targets:\n" +
                    targets);
}

}  // namespace

class ProxyDnsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void followsSrvRecordsAndResolvesAgainAfterTheTtl() {
    // Upstreams that close after each answer, so every request connects (and resolves) anew.
    TestUpstream a(true), b(true);
    DnsTestServer dns;
    dns.setA("node.test", {"127.0.0.1"}, 60);
    dns.setSrv("api.test", {{10, 10, a.port(), "node.test"}}, 1);
    auto e = startEngine(dns, "api.test", 80);
    TestClient client(e->proxyPort());
    QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(a.requests(), 1);
    dns.setSrv("api.test", {{10, 10, b.port(), "node.test"}}, 1);
    // Within the TTL the old port stays.
    QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 200);
    QCOMPARE(b.requests(), 0);
    QTest::qWait(1200);
    // Past it: the new record (after at most a stale answer or two while it refreshes).
    for (int i = 0; i < 20 && b.requests() == 0; ++i) {
      QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 200);
      QTest::qWait(50);
    }
    QVERIFY(b.requests() > 0);
  }

  void unknownHostAnswersNameResolutionFailed() {
    TestUpstream a;
    DnsTestServer dns;
    auto e = startEngine(dns, "missing.test", a.port());
    TestClient client(e->proxyPort());
    auto r = client.get("/x");
    QCOMPARE(r.status, 503);
    QCOMPARE(r.body, std::string(kNameResolution));
    QCOMPARE(a.requests(), 0);
  }

  void servesStaleAddressesWhileTheNameserverFails() {
    TestUpstream a(true);
    DnsTestServer dns;
    dns.setA("api.test", {"127.0.0.1"}, 1);
    auto e = startEngine(dns, "api.test", a.port());
    QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 200);
    dns.setServfail(true);
    QTest::qWait(1200);  // expired; refreshing fails, the stale address stays (dns_stale_ttl 2 s)
    for (int i = 0; i < 3; ++i) QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 200);
    QCOMPARE(a.requests(), 4);
    QTest::qWait(2200);  // past the stale window
    auto r = TestClient(e->proxyPort()).get("/x");
    QCOMPARE(r.status, 503);
    QCOMPARE(r.body, std::string(kNameResolution));
    // The nameserver recovers: after dns_error_ttl the name resolves again.
    dns.setServfail(false);
    QTest::qWait(1100);
    QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 200);
  }

  void resolvesHostnameTargetsOfAnUpstream() {
    TestUpstream a;
    DnsTestServer dns;
    dns.setA("t1.test", {"127.0.0.1"}, 30);
    auto e = startUpstream(dns, "  - {target: 't1.test:" + std::to_string(a.port()) +
                                    "'}\n  - {target: 'nowhere.test:" + std::to_string(a.port()) +
                                    "'}\n");
    // The target that does not resolve is skipped (retried on the other), never answered with.
    for (int i = 0; i < 6; ++i) QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 200);
    QCOMPARE(a.requests(), 6);
  }

  void balancesTheSrvAnswersOfATargetByTheirWeights() {
    // Kong: each SRV answer for a target's name is an entry of the balancer with the record's
    // weight and port (weight 0 counts as 1); the target's own weight and port do not apply.
    TestUpstream a, b, c;
    DnsTestServer dns;
    dns.setA("node.test", {"127.0.0.1"}, 60);
    dns.setSrv("svc.test",
               {{10, 10, a.port(), "node.test"},
                {10, 30, b.port(), "node.test"},
                {10, 0, c.port(), "node.test"},
                {20, 50, c.port(), "node.test"}},  // a lower priority: not used
               60);
    auto e = startUpstream(dns, "  - {target: 'svc.test:8000', weight: 7}\n");
    TestClient client(e->proxyPort());  // keep-alive: pooled connections keep the proportions
    for (int i = 0; i < 41; ++i) QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(a.requests(), 10);
    QCOMPARE(b.requests(), 30);
    QCOMPARE(c.requests(), 1);
    QCOMPARE(a.connections() + b.connections() + c.connections(), 3);
  }

  void aTargetWithSrvAnswersWeighsTheSumOfTheirWeights() {
    TestUpstream a, b, ip;
    DnsTestServer dns;
    dns.setA("node.test", {"127.0.0.1"}, 60);
    dns.setSrv("svc.test", {{10, 10, a.port(), "node.test"}, {10, 30, b.port(), "node.test"}}, 60);
    auto e = startUpstream(dns,
                           "  - {target: 'svc.test:8000', weight: 100}\n"
                           "  - {target: '127.0.0.1:" +
                               std::to_string(ip.port()) + "', weight: 40}\n");
    TestClient client(e->proxyPort());
    // Until its name is resolved the target weighs 100; then 10 + 30.
    for (int i = 0; i < 4; ++i) QCOMPARE(client.get("/x").status, 200);
    const int a0 = a.requests(), b0 = b.requests(), ip0 = ip.requests();
    for (int i = 0; i < 160; ++i) QCOMPARE(client.get("/x").status, 200);
    auto near = [](int got, int want) { return got >= want - 2 && got <= want + 2; };
    QVERIFY2(near(a.requests() - a0, 20), std::to_string(a.requests() - a0).c_str());
    QVERIFY2(near(b.requests() - b0, 60), std::to_string(b.requests() - b0).c_str());
    QVERIFY2(near(ip.requests() - ip0, 80), std::to_string(ip.requests() - ip0).c_str());
  }
};

QTEST_GUILESS_MAIN(ProxyDnsTest)
#include "proxy_dns_test.moc"
