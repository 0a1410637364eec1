// End to end: a hostname target whose name resolves (through a real test DNS server) to two
// loopback addresses, one of them without a server. Passive checks mark only that address, the
// proxy keeps answering from the other, and GET /upstreams/{u}/health lists both addresses with
// their own health; POST .../targets/{t}/{address}/unhealthy sets one address.
#include <QtTest>

#include <boost/json/parse.hpp>
#include <map>

#include "../net/dns_test_server.h"
#include "admin_exchange.h"
#include "config/declarative.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"

using namespace archway;
using archway::testing::exchange;
namespace json = boost::json;

namespace {

std::string startEngine(runtime::Engine& engine, const DnsTestServer& dns,
                        const std::string& yaml) {
  auto cfg = config::parseDeclarative(yaml);
  if (!cfg.ok()) return cfg.errorText();
  runtime::EngineOptions options;
  options.proxyListen = "127.0.0.1:0";
  options.adminListen = "127.0.0.1:0";
  options.workers = 2;
  options.dns.nameservers = {dns.address()};
  options.dns.hostsFile = "";
  options.dns.timeout = std::chrono::seconds(1);
  options.dns.attempts = 1;
  auto started = engine.start(options, std::move(cfg.value()));
  return started.ok() ? std::string() : started.errorText();
}

json::object getJson(const runtime::Engine& engine, const std::string& path) {
  auto r = exchange(engine.adminPort(), "GET", path);
  if (r.status != 200) qWarning("%s: %d %s", path.c_str(), r.status, r.body.c_str());
  return json::parse(r.body).as_object();
}

// The upstream's one target as GET /upstreams/{u}/health shows it.
json::object targetHealth(const runtime::Engine& engine, const std::string& upstream) {
  auto data = getJson(engine, "/upstreams/" + upstream + "/health")["data"].as_array();
  return data.empty() ? json::object{} : data[0].as_object();
}

std::map<std::string, std::string> addressHealth(const json::object& target) {
  std::map<std::string, std::string> out;
  for (const auto& a : target.at("data").as_object().at("addresses").as_array()) {
    const auto& o = a.as_object();
    out[std::string(o.at("ip").as_string())] = std::string(o.at("health").as_string());
  }
  return out;
}

}  // namespace

class AdminAddressHealthTest : public QObject {
  Q_OBJECT
 private slots:
  void passiveChecksAndTheHealthEndpointWorkPerAddress() {
    DnsTestServer dns;
    dns.setA("multi.test", {"127.0.0.1", "127.0.0.2"}, 60);
    demo::DemoServer upstream;  // on 127.0.0.1 only: 127.0.0.2 refuses the connection
    auto upPort = upstream.start("127.0.0.1", 0);
    QVERIFY2(upPort.ok(), upPort.errorText().c_str());
    const std::string target = "multi.test:" + std::to_string(*upPort);
    runtime::Engine engine;
    const std::string yaml =
        "_format_version: '3.0'\n"
        "upstreams:\n"
        "- name: up\n"
        "  healthchecks: {passive: {unhealthy: {tcp_failures: 1}}}\n"
        "  targets: [{target: '" +
        target +
        "'}]\n"
        "- name: gone\n"
        "  targets: [{target: 'missing.test:80'}]\n"
        "services:\n"
        "- name: s\n"
        "  host: up\n"
        "  retries: 2\n"
        "  routes: [{name: r, paths: [/h]}]\n"
        "plugins: [{name: prometheus, config: {upstream_health_metrics: true}}]\n";
    const std::string error = startEngine(engine, dns, yaml);
    QVERIFY2(error.empty(), error.c_str());

    // Before any traffic the endpoint resolves the name: both addresses, healthy.
    auto t = targetHealth(engine, "up");
    QCOMPARE(addressHealth(t), (std::map<std::string, std::string>{{"127.0.0.1", "HEALTHY"},
                                                                   {"127.0.0.2", "HEALTHY"}}));
    QCOMPARE(t["health"].as_string(), "HEALTHY");
    const auto& first = t["data"].as_object()["addresses"].as_array()[0].as_object();
    QCOMPARE(first.at("port").as_int64(), static_cast<std::int64_t>(*upPort));
    QCOMPARE(first.at("weight").as_int64(), 100);

    // Every request is answered: a refused try on .2 marks .2 and is retried on .1.
    for (int i = 0; i < 8; ++i) {
      auto r = exchange(engine.proxyPort(), "GET", "/h");
      QVERIFY2(r.status == 200, r.body.c_str());
    }
    t = targetHealth(engine, "up");
    QCOMPARE(addressHealth(t), (std::map<std::string, std::string>{{"127.0.0.1", "HEALTHY"},
                                                                   {"127.0.0.2", "UNHEALTHY"}}));
    QCOMPARE(t["health"].as_string(), "HEALTHY");
    auto weight = t["data"].as_object()["weight"].as_object();
    QCOMPARE(weight["total"].as_int64(), 200);
    QCOMPARE(weight["available"].as_int64(), 100);
    auto balancer = getJson(engine, "/upstreams/up/health?balancer_health=1")["data"].as_object();
    QCOMPARE(balancer["health"].as_string(), "HEALTHY");
    weight = balancer["details"].as_object()["weight"].as_object();
    QCOMPARE(weight["total"].as_int64(), 200);
    QCOMPARE(weight["available"].as_int64(), 100);
    QCOMPARE(weight["unavailable"].as_int64(), 100);
    // Kong's kong_upstream_target_health: a row per address; a name that does not resolve has
    // one, with an empty address.
    const auto metrics = exchange(engine.adminPort(), "GET", "/metrics").body;
    const std::string row = "kong_upstream_target_health{upstream=\"up\",target=\"" + target +
                            "\",address=\"127.0.0.";
    for (const std::string& line :
         {row + "1:" + std::to_string(*upPort) + "\",state=\"healthy\",subsystem=\"http\"} 1\n",
          row + "2:" + std::to_string(*upPort) + "\",state=\"unhealthy\",subsystem=\"http\"} 1\n",
          row + "2:" + std::to_string(*upPort) + "\",state=\"healthy\",subsystem=\"http\"} 0\n",
          std::string("kong_upstream_target_health{upstream=\"gone\",target=\"missing.test:80\","
                      "address=\"\",state=\"dns_error\",subsystem=\"http\"} 1\n")})
      QVERIFY2(metrics.find(line) != std::string::npos, (line + metrics).c_str());

    // One address by hand (Kong's /targets/{t}/{address}/...): .1 down leaves nothing.
    const std::string base = "/upstreams/up/targets/" + target + "/";
    QCOMPARE(exchange(engine.adminPort(), "POST", base + "127.0.0.1/unhealthy").status, 204);
    QCOMPARE(targetHealth(engine, "up")["health"].as_string(), "UNHEALTHY");
    for (int i = 0; i < 4; ++i) QCOMPARE(exchange(engine.proxyPort(), "GET", "/h").status, 503);
    QCOMPARE(exchange(engine.adminPort(), "POST",
                      base + "127.0.0.1:" + std::to_string(*upPort) + "/healthy")
                 .status,
             204);
    for (int i = 0; i < 4; ++i) QCOMPARE(exchange(engine.proxyPort(), "GET", "/h").status, 200);
    QCOMPARE(exchange(engine.adminPort(), "POST", base + "127.0.0.7/healthy").status, 404);

    // The whole target by hand sets every address.
    QCOMPARE(exchange(engine.adminPort(), "POST", base + "healthy").status, 204);
    QCOMPARE(
        addressHealth(targetHealth(engine, "up")),
        (std::map<std::string, std::string>{{"127.0.0.1", "HEALTHY"}, {"127.0.0.2", "HEALTHY"}}));

    // A name that does not resolve: DNS_ERROR, no addresses; no checks: 400 with Kong's words.
    t = targetHealth(engine, "gone");
    QCOMPARE(t["health"].as_string(), "DNS_ERROR");
    QVERIFY(t["data"].as_object()["addresses"].as_array().empty());
    auto refused = exchange(engine.adminPort(), "POST",
                            "/upstreams/gone/targets/missing.test:80/127.0.0.1/unhealthy");
    QCOMPARE(refused.status, 400);
    QVERIFY2(refused.body.find("no healthchecker found for gone") != std::string::npos,
             refused.body.c_str());
    engine.stop(std::chrono::milliseconds(500));
  }
};

QTEST_GUILESS_MAIN(AdminAddressHealthTest)
#include "admin_address_health_test.moc"
