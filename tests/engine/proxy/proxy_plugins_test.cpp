// Plugin chains through the real proxy: auth sets the consumer and its headers upstream,
// consumer-scoped plugins win after auth, exits still pass header_filter, upstream edits reach
// the upstream, and per-plugin timings reach the stats frame.
#include <QtTest>

#include <thread>

#include "config/declarative.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"
#include "test_upstream.h"

using namespace archway;

namespace {

core::Config configFor(unsigned short port) {
  const std::string up = "http://127.0.0.1:" + std::to_string(port);
  std::string yaml =
      "_format_version: '3.0'\n"
      "services:\n"
      "- name: svc\n"
      "  url: " + up + "\n"
      "  routes:\n"
      "  - name: private\n"
      "    paths: [/private]\n"
      "    plugins:\n"
      "    - name: key-auth\n"
      "      config: {hide_credentials: true}\n"
      "  - name: closed\n"
      "    paths: [/closed]\n"
      "    plugins:\n"
      "    - name: request-termination\n"
      "      config: {status_code: 418, message: brewing}\n"
      "    - name: response-transformer\n"
      "      config: {add: {headers: ['X-Added:yes']}}\n"
      "  - name: edited\n"
      "    paths: [/edited]\n"
      "    plugins:\n"
      "    - name: request-transformer\n"
      "      config: {add: {headers: ['X-Extra:1']}, remove: {headers: [X-Drop]}, replace: {uri: /rewritten}}\n"
      "consumers:\n"
      "- username: alice\n"
      "  keyauth_credentials:\n"
      "  - key: alice-key\n"
      "  plugins:\n"
      "  - name: rate-limiting\n"
      "    config: {minute: 2, policy: local}\n"
      "- username: bob\n"
      "  keyauth_credentials:\n"
      "  - key: bob-key\n"
      "plugins:\n"
      "- name: rate-limiting\n"
      "  config: {minute: 100, policy: local}\n";
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  return std::move(*c);
}

runtime::EngineOptions loopbackOptions() {
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "off";
  o.workers = 1;
  o.statsInterval = std::chrono::milliseconds(50);
  return o;
}

}  // namespace

class ProxyPluginsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void authSetsConsumerAndHidesCredentials() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto denied = client.get("/private/x");
    QCOMPARE(denied.status, 401);
    QVERIFY(denied.body.find("No API key found in request") != std::string::npos);
    QCOMPARE(up.requests(), 0);

    auto ok = client.get("/private/x", {{"apikey", "bob-key"}});
    QCOMPARE(ok.status, 200);
    auto seen = up.last();
    QCOMPARE(seen.headers["x-consumer-username"], std::string("bob"));
    QVERIFY(!seen.headers.count("apikey"));  // hide_credentials
    // The global rate limit applies to bob: Kong's headers on the proxied response.
    QCOMPARE(ok.headers["x-ratelimit-limit-minute"], std::string("100"));
  }

  void consumerScopedPluginWinsAfterAuth() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    for (int i = 0; i < 2; ++i) {
      auto r = client.get("/private/a", {{"apikey", "alice-key"}});
      QCOMPARE(r.status, 200);
      QCOMPARE(r.headers["x-ratelimit-limit-minute"], std::string("2"));
    }
    auto limited = client.get("/private/a", {{"apikey", "alice-key"}});
    QCOMPARE(limited.status, 429);
    QVERIFY(limited.body.find("API rate limit exceeded") != std::string::npos);
    QVERIFY(limited.headers.count("retry-after"));
    // bob is not limited by alice's plugin.
    QCOMPARE(client.get("/private/a", {{"apikey", "bob-key"}}).status, 200);
    QCOMPARE(up.requests(), 3);
  }

  void exitsPassHeaderFilter() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/closed");
    QCOMPARE(r.status, 418);
    QVERIFY(r.body.find("brewing") != std::string::npos);
    QCOMPARE(r.headers["x-added"], std::string("yes"));
    QVERIFY(r.headers.count("x-kong-response-latency"));
    QCOMPARE(up.requests(), 0);
    // The connection stays usable after an exit.
    QCOMPARE(client.get("/closed").status, 418);
  }

  void requestEditsReachTheUpstream() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/edited/a?q=1", {{"X-Drop", "secret"}, {"X-Keep", "k"}});
    QCOMPARE(r.status, 200);
    auto seen = up.last();
    QCOMPARE(seen.target, std::string("/rewritten?q=1"));
    QCOMPARE(seen.headers["x-extra"], std::string("1"));
    QCOMPARE(seen.headers["x-keep"], std::string("k"));
    QVERIFY(!seen.headers.count("x-drop"));
  }

  void pluginTimingsReachTheStats() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    for (int i = 0; i < 5; ++i) QCOMPARE(client.get("/private/t", {{"apikey", "bob-key"}}).status, 200);
    bool found = false;
    for (int i = 0; i < 100 && !found; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      auto frame = engine.latestStats();
      for (const auto& p : frame->plugins) {
        if (p.route == "private" && p.plugin == "key-auth" && p.requests >= 5) {
          found = true;
          QVERIFY(p.meanUs > 0);
          QVERIFY(p.p99Us >= p.meanUs * 0.5);
        }
      }
    }
    QVERIFY(found);
  }

  void proxyCacheAdminPurge() {
    demo::DemoServer demoUp;
    auto port = demoUp.start("127.0.0.1", 0);
    QVERIFY(port.ok());
    auto cfg = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: d\n  url: http://127.0.0.1:" +
        std::to_string(*port) +
        "\n  routes:\n  - name: cached\n    paths: [/c]\n    strip_path: true\n    plugins:\n"
        "    - name: proxy-cache\n      config: {strategy: memory}\n");
    QVERIFY2(cfg.ok(), cfg.errorText().c_str());
    auto o = loopbackOptions();
    o.adminListen = "127.0.0.1:0";
    runtime::Engine engine;
    QVERIFY(engine.start(o, *cfg).ok());
    TestClient client(engine.proxyPort());
    auto first = client.get("/c/anything");
    QCOMPARE(first.status, 200);
    QCOMPARE(first.headers["x-cache-status"], std::string("Miss"));
    auto second = client.get("/c/anything");
    QCOMPARE(second.headers["x-cache-status"], std::string("Hit"));
    const std::string key = second.headers["x-cache-key"];
    QVERIFY(!key.empty());
    TestClient admin(engine.adminPort());
    QCOMPARE(admin.get("/proxy-cache/" + key).status, 200);
    QCOMPARE(admin.get("/proxy-cache/" + key, {}, "DELETE").status, 204);
    QCOMPARE(admin.get("/proxy-cache/" + key).status, 404);
    QCOMPARE(client.get("/c/anything").headers["x-cache-status"], std::string("Miss"));
    QCOMPARE(admin.get("/proxy-cache", {}, "DELETE").status, 204);
    QCOMPARE(client.get("/c/anything").headers["x-cache-status"], std::string("Miss"));
  }

  void invalidPluginConfigIsRejectedAndOldConfigStays() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(loopbackOptions(), configFor(up.port())).ok());
    auto bad = config::parseDeclarative(
        "_format_version: '3.0'\nplugins:\n- name: rate-limiting\n  config: {minute: -1}\n");
    QVERIFY(!bad.ok());
    QVERIFY(bad.errorText().find("plugins[0].config.minute") != std::string::npos);
    auto unknown = config::parseDeclarative(
        "_format_version: '3.0'\nplugins:\n- name: no-such-plugin\n");
    QVERIFY(!unknown.ok());
    QVERIFY(unknown.errorText().find("plugins[0].name") != std::string::npos);
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/closed").status, 418);
  }
};

QTEST_GUILESS_MAIN(ProxyPluginsTest)
#include "proxy_plugins_test.moc"
