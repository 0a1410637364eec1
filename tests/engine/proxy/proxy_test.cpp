#include <QtTest>

#include <future>

#include "../net/closed_port.h"
#include "config/declarative.h"
#include "runtime/engine.h"
#include "test_upstream.h"

using namespace archway;

namespace {

core::Config configFor(unsigned short upstreamPort, const std::string& extraService = {}) {
  std::string yaml =
      "_format_version: '3.0'\nservices:\n"
      "- name: up\n  url: http://127.0.0.1:" +
      std::to_string(upstreamPort) +
      "/base\n"
      "  read_timeout: 300\n  retries: 0\n"
      "  routes:\n  - {name: api, paths: [/api]}\n"
      "  - {name: keep, paths: [/keep], strip_path: false}\n" +
      extraService;
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  return std::move(*c);
}

runtime::EngineOptions loopbackOptions(int workers = 1) {
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "127.0.0.1:0";
  o.workers = workers;
  o.statsInterval = std::chrono::milliseconds(50);
  return o;
}

}  // namespace

class ProxyTest : public QObject {
  Q_OBJECT
 private slots:
  void proxiesWithStrippedPathAndForwardedHeaders() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/api/users?id=7&x=%20y", {{"X-Forwarded-For", "10.0.0.1"}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, std::string("ok"));
    QCOMPARE(r.headers["via"], std::string("1.1 archway/0.1.0"));
    QVERIFY(r.headers.count("x-kong-upstream-latency"));
    auto seen = up.last();
    QCOMPARE(seen.target, std::string("/base/users?id=7&x=%20y"));
    QCOMPARE(seen.headers["host"], "127.0.0.1:" + std::to_string(up.port()));
    QCOMPARE(seen.headers["x-forwarded-for"], std::string("10.0.0.1, 127.0.0.1"));
    QCOMPARE(seen.headers["x-real-ip"], std::string("127.0.0.1"));
    QCOMPARE(seen.headers["x-forwarded-proto"], std::string("http"));
    QCOMPARE(seen.headers["x-forwarded-host"], std::string("localhost"));
    QCOMPARE(seen.headers["x-forwarded-port"], std::to_string(engine.proxyPort()));
    QCOMPARE(seen.headers["x-forwarded-path"], std::string("/api/users"));
    QCOMPARE(seen.headers["x-forwarded-prefix"], std::string("/api"));
    engine.stop();
  }

  void keepsPathWhenStripPathIsOff() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/keep/a").status, 200);
    QCOMPARE(up.last().target, std::string("/base/keep/a"));
  }

  void answersKongNotFoundWhenNoRouteMatches() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/nothing-here");
    QCOMPARE(r.status, 404);
    QCOMPARE(r.body, std::string(R"({"message":"no Route matched with those values"})"));
    QCOMPARE(r.headers["content-type"], std::string("application/json; charset=utf-8"));
    QCOMPARE(up.connections(), 0);
  }

  void reusesConnectionsOnBothSides() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    for (int i = 0; i < 25; ++i) QCOMPARE(client.get("/api/n").status, 200);
    QCOMPARE(up.connections(), 1);
    QTRY_COMPARE(engine.latestStats()->totalConnections, std::uint64_t{1});
  }

  void retriesWhenAPooledConnectionWasClosedByTheUpstream() {
    TestUpstream up(true);  // says keep-alive, then closes
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    for (int i = 0; i < 10; ++i) QCOMPARE(client.get("/api/again").status, 200);
    QCOMPARE(up.requests(), 10);
  }

  void answersBadGatewayWhenUpstreamRefuses() {
    archway::testing::ClosedPort closed;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(closed.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/api/x");
    QCOMPARE(r.status, 502);
    QCOMPARE(
        r.body,
        std::string(R"({"message":"An invalid response was received from the upstream server"})"));
  }

  void answersGatewayTimeoutWhenUpstreamIsSlow() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/api/../keep/../api/sleep/1500");  // normalised to /api/sleep/1500
    QCOMPARE(r.status, 504);
    QCOMPARE(r.body, std::string(R"({"message":"The upstream server is timing out"})"));
    // The client connection still serves the next request.
    QCOMPARE(client.get("/api/ok").status, 200);
  }

  void rejectsOversizeHeaders() {
    TestUpstream up;
    runtime::Engine engine;
    auto o = loopbackOptions();
    o.maxHeaderBytes = 1024;
    QVERIFY(engine.start(o, configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/api/x", {{"X-Big", std::string(4096, 'a')}});
    QCOMPARE(r.status, 431);
    // The engine keeps serving others.
    TestClient other(engine.proxyPort());
    QCOMPARE(other.get("/api/x").status, 200);
  }

  void appliesNewConfigLiveAndKeepsOldOnError() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/extra").status, 404);
    std::string extra = "- name: extra\n  url: http://127.0.0.1:" + std::to_string(up.port()) +
                        "\n  routes: [{name: extra, paths: [/extra]}]\n";
    QVERIFY(engine.applyConfig(configFor(up.port(), extra)).ok());
    QCOMPARE(client.get("/extra").status, 200);  // same connection, new snapshot
    core::Config bad = configFor(up.port());
    bad.routes[0].paths = {"~/broken("};
    auto s = engine.applyConfig(bad);
    QVERIFY(!s.ok());
    QCOMPARE(s.errors().front().path, std::string("routes[0].paths[0]"));
    QCOMPARE(client.get("/extra").status, 200);
    QCOMPARE(engine.config()->routes.size(), std::size_t{3});
  }

  void statsCountRequestsPerRoute() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(2), configFor(up.port())).ok());
    std::atomic<int> frames{0};
    int token =
        engine.subscribeStats([&](std::shared_ptr<const metrics::StatsFrame>) { ++frames; });
    TestClient client(engine.proxyPort());
    for (int i = 0; i < 12; ++i) client.get("/api/s");
    client.get("/missing");
    QTRY_COMPARE(engine.latestStats()->total.requests, std::uint64_t{13});
    auto f = engine.latestStats();
    auto api = std::find_if(f->routes.begin(), f->routes.end(),
                            [](const auto& r) { return r.name == "api"; });
    QVERIFY(api != f->routes.end());
    QCOMPARE(api->requests, std::uint64_t{12});
    QCOMPARE(api->status2xx, std::uint64_t{12});
    QCOMPARE(f->total.status4xx, std::uint64_t{1});
    QCOMPARE(f->services.size(), std::size_t{1});
    QVERIFY(frames.load() > 0);
    engine.unsubscribe(token);
  }

  void stopLetsInFlightRequestsFinish() {
    TestUpstream up;
    auto engine = std::make_unique<runtime::Engine>();
    auto cfg = configFor(up.port());
    cfg.services[0].readTimeout = 5000;
    QVERIFY(engine->start(loopbackOptions(), cfg).ok());
    auto port = engine->proxyPort();
    auto inflight = std::async(std::launch::async, [port] {
      TestClient c(port);
      return c.get("/api/sleep/400").status;
    });
    QTRY_VERIFY(up.connections() == 1);
    engine->stop();
    QCOMPARE(inflight.get(), 200);
  }

  void refusesAdminOffLoopbackWithoutToken() {
    runtime::Engine engine;
    auto o = loopbackOptions();
    o.adminListen = "0.0.0.0:0";
    auto s = engine.start(o, core::Config{});
    QVERIFY(!s.ok());
    QCOMPARE(s.errors().front().path, std::string("admin-listen"));
  }
};

QTEST_GUILESS_MAIN(ProxyTest)
#include "proxy_test.moc"
