// End to end: the Admin API over real HTTP on a running Engine with an SQLite store, a route
// that then proxies to a demo upstream, and the route surviving a restart on the same store.
#include <QTemporaryDir>
#include <QtTest>

#include <boost/json/parse.hpp>

#include "admin_exchange.h"
#include "config/declarative.h"
#include "demo/demo_server.h"
#include "runtime/config_source.h"
#include "runtime/engine.h"

using namespace archway;
using archway::testing::exchange;
namespace json = boost::json;

namespace {

// Starts `engine` on a kong.yml with the proxy and the Admin API on free loopback ports;
// empty, or what went wrong.
std::string startEngine(runtime::Engine& engine, const std::string& yaml, int workers) {
  auto cfg = config::parseDeclarative(yaml);
  if (!cfg.ok()) return cfg.errorText();
  runtime::EngineOptions options;
  options.proxyListen = "127.0.0.1:0";
  options.adminListen = "127.0.0.1:0";
  options.workers = workers;
  auto started = engine.start(options, std::move(cfg.value()));
  return started.ok() ? std::string() : started.errorText();
}

}  // namespace

class AdminHttpTest : public QObject {
  Q_OBJECT
 private slots:
  void writesThroughTheAdminApiProxyAndSurviveARestart() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    demo::DemoServer upstream;
    auto upPort = upstream.start("127.0.0.1", 0);
    QVERIFY2(upPort.ok(), upPort.errorText().c_str());

    runtime::EngineOptions options;
    options.proxyListen = "127.0.0.1:0";
    options.adminListen = "127.0.0.1:0";
    options.workers = 1;
    options.store = "sqlite:" + dir.filePath(QStringLiteral("archway.db")).toStdString();

    {
      runtime::Engine engine;
      auto started = engine.start(options, core::Config{});
      QVERIFY2(started.ok(), started.errorText().c_str());
      auto s = exchange(engine.adminPort(), "POST", "/services",
                        "name=demo&url=http://127.0.0.1:" + std::to_string(*upPort),
                        "application/x-www-form-urlencoded");
      QCOMPARE(s.status, 201);
      auto r = exchange(engine.adminPort(), "POST", "/services/demo/routes",
                        "{\"name\":\"demo-route\",\"paths\":[\"/demo\"]}", "application/json");
      QVERIFY2(r.status == 201, r.body.c_str());
      auto proxied = exchange(engine.proxyPort(), "GET", "/demo/anything?x=1");
      QVERIFY2(proxied.status == 200, proxied.body.c_str());
      auto echoed = json::parse(proxied.body).as_object();
      QVERIFY2(proxied.body.find("/anything") != std::string::npos, proxied.body.c_str());
      QVERIFY(!echoed.empty());
      engine.stop(std::chrono::milliseconds(500));
    }

    runtime::ConfigSource source;
    source.db = options.store;
    auto reloaded = runtime::loadInitialConfig(source);
    QVERIFY2(reloaded.ok(), reloaded.errorText().c_str());
    runtime::Engine again;
    auto started = again.start(options, std::move(reloaded.value()));
    QVERIFY2(started.ok(), started.errorText().c_str());
    auto route = exchange(again.adminPort(), "GET", "/routes/demo-route");
    QVERIFY2(route.status == 200, route.body.c_str());
    auto proxied = exchange(again.proxyPort(), "GET", "/demo/anything");
    QCOMPARE(proxied.status, 200);
    again.stop(std::chrono::milliseconds(500));
  }

  // POST /upstreams/{u}/targets/{t}/unhealthy|healthy reaches the balancers of the workers.
  void targetHealthSetByHandSteersTheProxy() {
    demo::DemoServer upstream;
    auto upPort = upstream.start("127.0.0.1", 0);
    QVERIFY2(upPort.ok(), upPort.errorText().c_str());
    const std::string target = "127.0.0.1:" + std::to_string(*upPort);
    runtime::Engine engine;
    const std::string error = startEngine(engine,
        "_format_version: '3.0'\n"
        "upstreams:\n"
        "- name: up\n"
        "  healthchecks: {passive: {unhealthy: {http_failures: 5}}}\n"
        "  targets: [{target: '" + target + "'}]\n"
        "services:\n"
        "- name: s\n"
        "  host: up\n"
        "  routes: [{name: r, paths: [/h]}]\n",
                                          2);
    QVERIFY2(error.empty(), error.c_str());
    QCOMPARE(exchange(engine.proxyPort(), "GET", "/h").status, 200);

    auto down = exchange(engine.adminPort(), "POST", "/upstreams/up/targets/" + target + "/unhealthy");
    QCOMPARE(down.status, 204);
    auto health = exchange(engine.adminPort(), "GET", "/upstreams/up/health");
    QVERIFY2(health.body.find("\"UNHEALTHY\"") != std::string::npos, health.body.c_str());
    for (int i = 0; i < 4; ++i) {  // every worker's balancer sees it
      auto r = exchange(engine.proxyPort(), "GET", "/h");
      QCOMPARE(r.status, 503);
      QVERIFY2(r.body.find("failure to get a peer from the ring-balancer") != std::string::npos,
               r.body.c_str());
    }
    QCOMPARE(exchange(engine.adminPort(), "POST", "/upstreams/up/targets/" + target + "/healthy")
                 .status,
             204);
    QCOMPARE(exchange(engine.proxyPort(), "GET", "/h").status, 200);
    QCOMPARE(exchange(engine.adminPort(), "POST", "/upstreams/up/targets/127.0.0.9:1/healthy")
                 .status,
             404);
    engine.stop(std::chrono::milliseconds(500));
  }

  // GET /upstreams/{u}/health in Kong's shape: an IP target lists its address with health and
  // weight; ?balancer_health=1 gives the balancer's status against healthchecks.threshold,
  // also for an upstream no service uses.
  void upstreamHealthListsAddressesAndBalancerHealth() {
    runtime::Engine engine;
    const std::string error = startEngine(engine,
        "_format_version: '3.0'\n"
        "upstreams:\n"
        "- name: up\n"
        "  healthchecks: {threshold: 80, passive: {unhealthy: {http_failures: 5}}}\n"
        "  targets: [{target: '127.0.0.1:9001', weight: 100},\n"
        "            {target: '127.0.0.2:9002', weight: 50}]\n"
        "- name: lonely\n"
        "  targets: [{target: '127.0.0.3:9003'}]\n"
        "services:\n"
        "- name: s\n"
        "  host: up\n"
        "  routes: [{name: r, paths: [/h]}]\n",
                                          1);
    QVERIFY2(error.empty(), error.c_str());
    auto get = [&](const std::string& path) {
      auto r = exchange(engine.adminPort(), "GET", path);
      if (r.status != 200) qWarning("%s: %d %s", path.c_str(), r.status, r.body.c_str());
      return boost::json::parse(r.body).as_object();
    };

    auto targets = get("/upstreams/up/health")["data"].as_array();
    QCOMPARE(targets.size(), std::size_t(2));
    for (const auto& t : targets) {
      const auto& o = t.as_object();
      const auto& addresses = o.at("data").as_object().at("addresses").as_array();
      QCOMPARE(addresses.size(), std::size_t(1));
      const auto& a = addresses[0].as_object();
      const bool first = o.at("target").as_string() == "127.0.0.1:9001";
      QCOMPARE(a.at("ip").as_string(), first ? "127.0.0.1" : "127.0.0.2");
      QCOMPARE(a.at("port").as_int64(), first ? 9001 : 9002);
      QCOMPARE(a.at("weight").as_int64(), first ? 100 : 50);
      QCOMPARE(a.at("health").as_string(), "HEALTHY");
    }

    auto balancer = get("/upstreams/up/health?balancer_health=1")["data"].as_object();
    QCOMPARE(balancer["health"].as_string(), "HEALTHY");
    QCOMPARE(balancer["id"], get("/upstreams/up")["id"]);
    auto weight = balancer["details"].as_object()["weight"].as_object();
    QCOMPARE(weight["total"].as_int64(), 150);
    QCOMPARE(weight["available"].as_int64(), 150);

    // 100 of 150 left is under the 80% threshold: the balancer is unhealthy.
    const std::string down = "/upstreams/up/targets/127.0.0.2:9002/unhealthy";
    QCOMPARE(exchange(engine.adminPort(), "POST", down).status, 204);
    balancer = get("/upstreams/up/health?balancer_health=1")["data"].as_object();
    QCOMPARE(balancer["health"].as_string(), "UNHEALTHY");
    QCOMPARE(balancer["details"].as_object()["healthy"].as_bool(), false);
    weight = balancer["details"].as_object()["weight"].as_object();
    QCOMPARE(weight["available"].as_int64(), 100);
    QCOMPARE(weight["unavailable"].as_int64(), 50);
    targets = get("/upstreams/up/health")["data"].as_array();
    for (const auto& t : targets) {
      const auto& o = t.as_object();
      const bool second = o.at("target").as_string() == "127.0.0.2:9002";
      QCOMPARE(o.at("data").as_object().at("addresses").as_array()[0].as_object().at("health")
                   .as_string(),
               second ? "UNHEALTHY" : "HEALTHY");
    }

    auto lonely = get("/upstreams/lonely/health?balancer_health=1")["data"].as_object();
    QCOMPARE(lonely["health"].as_string(), "HEALTHCHECKS_OFF");
    QCOMPARE(lonely["details"].as_object()["weight"].as_object()["total"].as_int64(), 100);
    engine.stop(std::chrono::milliseconds(500));
  }
};

QTEST_GUILESS_MAIN(AdminHttpTest)
#include "admin_http_test.moc"
