// Services whose host names an upstream, end to end: balancing, retries on another target,
// passive and active health checks, Kong's 503 when no target can take the request, and the
// Admin API's view of target health.
#include <QtTest>

#include <set>

#include <boost/json/parse.hpp>

#include "../net/closed_port.h"
#include "config/declarative.h"
#include "runtime/engine.h"
#include "test_upstream.h"

using namespace archway;
using archway::testing::ClosedPort;

namespace {

std::unique_ptr<runtime::Engine> startEngine(const std::string& upstreamYaml, int retries = 0) {
  std::string yaml =
      "_format_version: '3.0'\n"
      "services:\n- name: svc\n  host: backend\n  port: 80\n  retries: " +
      std::to_string(retries) +
      "\n  connect_timeout: 500\n  read_timeout: 2000\n  routes: [{name: r, paths: [/]}]\n"
      "upstreams:\n- name: backend\n" +
      upstreamYaml;
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "127.0.0.1:0";
  o.workers = 1;
  auto e = std::make_unique<runtime::Engine>();
  auto s = e->start(o, std::move(*c));
  if (!s) qFatal("%s", s.errorText().c_str());
  return e;
}

std::string target(unsigned short port, int weight = 100) {
  return "  - {target: '127.0.0.1:" + std::to_string(port) +
         "', weight: " + std::to_string(weight) + "}\n";
}

std::map<std::string, std::string> healthOf(runtime::Engine& e) {
  TestClient admin(e.adminPort());
  auto r = admin.get("/upstreams/backend/health");
  std::map<std::string, std::string> out;
  auto v = boost::json::parse(r.body);
  for (const auto& t : v.as_object().at("data").as_array()) {
    out[std::string(t.at("target").as_string())] = std::string(t.at("health").as_string());
  }
  return out;
}

}  // namespace

class ProxyBalancerTest : public QObject {
  Q_OBJECT
 private slots:
  void spreadsRequestsByWeight() {
    TestUpstream a, b;
    auto e = startEngine("  targets:\n" + target(a.port(), 200) + target(b.port(), 100));
    TestClient client(e->proxyPort());
    for (int i = 0; i < 30; ++i) QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(a.requests(), 20);
    QCOMPARE(b.requests(), 10);
    // Kong: the Host header names the picked target.
    QCOMPARE(b.last().headers["host"], "127.0.0.1:" + std::to_string(b.port()));
  }

  void usesHostHeaderOfTheUpstreamWhenSet() {
    TestUpstream a;
    auto e = startEngine("  host_header: api.internal\n  targets:\n" + target(a.port()));
    TestClient client(e->proxyPort());
    QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(a.last().headers["host"], std::string("api.internal"));
  }

  void retriesAnotherTargetWhenOneRefuses() {
    TestUpstream live;
    ClosedPort dead;
    auto e = startEngine("  targets:\n" + target(dead.port()) + target(live.port()), 2);
    TestClient client(e->proxyPort());
    for (int i = 0; i < 10; ++i) QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(live.requests(), 10);
  }

  void hashOnUriCaptureKeepsACaptureOnOneTarget() {
    TestUpstream a, b;
    std::string yaml =
        "_format_version: '3.0'\n"
        "services:\n- name: svc\n  host: backend\n  port: 80\n"
        "  routes: [{name: r, paths: ['~/tenants/(?P<tenant>[a-z0-9]+)']},\n"
        "           {name: p, paths: [/plain]}]\n"
        "upstreams:\n- name: backend\n  algorithm: consistent-hashing\n"
        "  hash_on: uri_capture\n  hash_on_uri_capture: tenant\n  hash_fallback: ip\n"
        "  targets:\n" +
        target(a.port()) + target(b.port());
    auto c = config::parseDeclarative(yaml);
    QVERIFY2(c.ok(), c.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 2;
    runtime::Engine e;
    QVERIFY(e.start(o, std::move(*c)).ok());
    std::set<int> used;
    for (int t = 0; t < 24; ++t) {
      std::set<int> targets;
      for (int k = 0; k < 4; ++k) {
        // A new connection each time: both workers, and paths that differ after the capture.
        TestClient client(e.proxyPort());
        const int beforeA = a.requests();
        const std::string path = "/tenants/t" + std::to_string(t) + "/item" + std::to_string(k);
        QCOMPARE(client.get(path).status, 200);
        targets.insert(a.requests() > beforeA ? 0 : 1);
      }
      QCOMPARE(targets.size(), std::size_t{1});
      used.insert(*targets.begin());
    }
    QCOMPARE(used.size(), std::size_t{2});  // the tenants spread over both targets
    QCOMPARE(a.requests() + b.requests(), 24 * 4);
    // A prefix route has no capture: the fallback (the client address, one here) decides.
    std::set<int> plain;
    for (int k = 0; k < 6; ++k) {
      TestClient client(e.proxyPort());
      const int beforeA = a.requests();
      QCOMPARE(client.get("/plain/" + std::to_string(k)).status, 200);
      plain.insert(a.requests() > beforeA ? 0 : 1);
    }
    QCOMPARE(plain.size(), std::size_t{1});
    e.stop();
  }

  void answersNoPeerWhenNoTargetCanServe() {
    TestUpstream a;
    auto e = startEngine("  targets:\n" + target(a.port(), 0));
    TestClient client(e->proxyPort());
    auto r = client.get("/x");
    QCOMPARE(r.status, 503);
    QCOMPARE(r.body, std::string("{\"message\":\"failure to get a peer from the ring-balancer\"}"));
    QCOMPARE(a.requests(), 0);
  }

  void passiveChecksMarkFailingTargetsUnhealthy() {
    TestUpstream live;
    const ClosedPort closed;
    const unsigned short dead = closed.port();
    auto e = startEngine("  healthchecks: {passive: {unhealthy: {tcp_failures: 2}}}\n  targets:\n" +
                             target(dead) + target(live.port()),
                         1);
    QCOMPARE(healthOf(*e)["127.0.0.1:" + std::to_string(dead)], std::string("HEALTHY"));
    TestClient client(e->proxyPort());
    for (int i = 0; i < 10; ++i) QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(healthOf(*e)["127.0.0.1:" + std::to_string(dead)], std::string("UNHEALTHY"));
    QCOMPARE(healthOf(*e)["127.0.0.1:" + std::to_string(live.port())], std::string("HEALTHY"));
    // Once unhealthy it is not tried any more: every request goes straight to the live one.
    int before = live.connections();
    for (int i = 0; i < 5; ++i) QCOMPARE(client.get("/x").status, 200);
    QCOMPARE(live.connections(), before);
  }

  void activeChecksFindDeadTargetsWithoutTraffic() {
    TestUpstream live;
    const ClosedPort closed;
    const unsigned short dead = closed.port();
    auto e = startEngine(
        "  healthchecks: {active: {type: tcp, timeout: 1, healthy: {interval: 1, successes: 1},"
        " unhealthy: {interval: 1, tcp_failures: 1}}}\n  targets:\n" +
        target(dead) + target(live.port()));
    QTRY_COMPARE_WITH_TIMEOUT(healthOf(*e)["127.0.0.1:" + std::to_string(dead)],
                              std::string("UNHEALTHY"), 8000);
    QCOMPARE(healthOf(*e)["127.0.0.1:" + std::to_string(live.port())], std::string("HEALTHY"));
  }

  void reportsHealthchecksOffWithoutChecks() {
    TestUpstream a;
    auto e = startEngine("  targets:\n" + target(a.port()));
    QCOMPARE(healthOf(*e)["127.0.0.1:" + std::to_string(a.port())],
             std::string("HEALTHCHECKS_OFF"));
  }

  void consistentHashingKeepsAKeyOnOneTarget() {
    TestUpstream a, b, c;
    auto e = startEngine("  hash_on: header\n  hash_on_header: x-user\n  targets:\n" +
                         target(a.port()) + target(b.port()) + target(c.port()));
    TestClient client(e->proxyPort());
    for (int i = 0; i < 12; ++i) QCOMPARE(client.get("/x", {{"X-User", "alice"}}).status, 200);
    const int served = (a.requests() == 12) + (b.requests() == 12) + (c.requests() == 12);
    QCOMPARE(served, 1);
  }
};

QTEST_GUILESS_MAIN(ProxyBalancerTest)
#include "proxy_balancer_test.moc"
