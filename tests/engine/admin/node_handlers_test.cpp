// The node-level Admin API endpoints (kong-reference §2.1, §2.4) straight on AdminApi: GET /,
// /endpoints, /schemas/{entity}[/validate], foreign-entity paths and readiness draining.
#include <QtTest>
#include <atomic>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_api.h"
#include "config/declarative.h"

using namespace archway;
namespace json = boost::json;

namespace {

std::shared_ptr<const core::Config> sample() {
  auto c = config::parseDeclarative(
      "_format_version: '3.0'\n"
      "services:\n"
      "- name: svc\n"
      "  url: http://up:8080/p\n"
      "  routes:\n"
      "  - name: r1\n"
      "    paths: [/r1]\n"
      "    plugins:\n"
      "    - name: cors\n"
      "      instance_name: cors-r1\n"
      "plugins:\n"
      "- name: correlation-id\n"
      "- name: cors\n"
      "  enabled: false\n"
      "upstreams:\n"
      "- name: up\n"
      "  targets: [{target: '10.0.0.1:80'}]\n");
  if (!c) qFatal("%s", c.errorText().c_str());
  return std::make_shared<const core::Config>(std::move(*c));
}

struct Fixture {
  std::shared_ptr<const core::Config> cfg = sample();
  std::shared_ptr<int> applied = std::make_shared<int>(0);
  std::shared_ptr<std::vector<std::string>> healthCalls =
      std::make_shared<std::vector<std::string>>();
  bool addresses = false;  // the engine's per-address setter

  admin::AdminApi api() const {
    admin::AdminContext ctx;
    ctx.config = [c = cfg] { return c; };
    ctx.stats = [] { return std::make_shared<const metrics::StatsFrame>(); };
    ctx.apply = [n = applied](core::Config) {
      ++*n;
      return core::Status(core::Ok{});
    };
    ctx.setTargetHealth = [calls = healthCalls](const std::string& u, const std::string& t,
                                                bool healthy) {
      calls->push_back(u + " " + t + (healthy ? " healthy" : " unhealthy"));
      return true;
    };
    if (addresses) {
      ctx.setAddressHealth = [calls = healthCalls](const std::string& u, const std::string& t,
                                                   const std::string& address, bool healthy) {
        using Result = admin::AdminContext::AddressHealthResult;
        if (address == "10.0.0.9") return Result{404, "Not found"};
        calls->push_back(u + " " + t + " " + address + (healthy ? " healthy" : " unhealthy"));
        return Result{};
      };
    }
    ctx.workers = 1;
    ctx.proxyListen = "0.0.0.0:8000";
    ctx.adminListen = "127.0.0.1:8001, 0.0.0.0:8444 ssl";
    return admin::AdminApi(std::move(ctx));
  }
};

json::value body(const admin::AdminResponse& r) { return json::parse(r.body); }

}  // namespace

class NodeHandlersTest : public QObject {
  Q_OBJECT
 private slots:
  void rootListsAvailableAndEnabledPluginsAndEachListener() {
    Fixture f;
    auto a = f.api();
    auto r = a.handle({"GET", "/", ""});
    QCOMPARE(r.status, 200);
    auto o = body(r).as_object();
    auto& plugins = o["plugins"].as_object();
    auto& keyAuth = plugins["available_on_server"].as_object()["key-auth"].as_object();
    QCOMPARE(keyAuth["priority"].as_int64(), std::int64_t{1250});
    // Enabled plugins of the config, once each, sorted; a disabled instance does not count
    // unless another instance of the same plugin is enabled.
    QCOMPARE(json::serialize(plugins["enabled_in_cluster"]),
             std::string("[\"correlation-id\",\"cors\"]"));
    auto& conf = o["configuration"].as_object();
    QCOMPARE(json::serialize(conf["admin_listen"]),
             std::string("[\"127.0.0.1:8001\",\"0.0.0.0:8444 ssl\"]"));
    // A second call on the same config answers the same (from the cache).
    QCOMPARE(a.handle({"GET", "/", ""}).body, r.body);
  }

  void endpointsListThePathTemplates() {
    auto r = Fixture().api().handle({"GET", "/endpoints", ""});
    QCOMPARE(r.status, 200);
    auto data = body(r).as_object()["data"].as_array();
    auto has = [&](const char* p) {
      for (const auto& x : data)
        if (x.as_string() == p) return true;
      return false;
    };
    QVERIFY(has("/"));
    QVERIFY(has("/services/{services}/routes"));
    QVERIFY(has("/consumers/{consumers}/key-auth"));
    QVERIFY(has("/schemas/routes/validate"));
    QVERIFY(has("/upstreams/{upstreams}/targets/{targets}/healthy"));
    QVERIFY(!has("/targets"));  // disabled in Kong
    QCOMPARE(Fixture().api().handle({"POST", "/endpoints", ""}).status, 405);
  }

  void schemasDescribeTheEntities() {
    auto a = Fixture().api();
    auto r = a.handle({"GET", "/schemas/services", ""});
    QCOMPARE(r.status, 200);
    bool port = false;
    const json::value schema = body(r);
    for (const auto& f : schema.at("fields").as_array()) {
      if (auto* p = f.as_object().if_contains("port")) {
        port = true;
        QCOMPARE(p->as_object().at("default").as_int64(), std::int64_t{80});
      }
    }
    QVERIFY(port);
    for (const char* e : {"routes", "upstreams", "targets", "consumers", "plugins",
                          "certificates", "snis", "ca_certificates", "keyauth_credentials",
                          "basicauth_credentials", "jwt_secrets", "acls"}) {
      QCOMPARE(a.handle({"GET", std::string("/schemas/") + e, ""}).status, 200);
    }
    auto missing = a.handle({"GET", "/schemas/nope", ""});
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.body, std::string("{\"message\":\"No entity named 'nope'\"}"));
  }

  void validateChecksWithoutStoring() {
    Fixture f;
    auto a = f.api();
    const std::string json = "application/json";
    auto ok = a.handle({"POST", "/schemas/services/validate", "",
                        "{\"name\":\"new\",\"host\":\"example.com\"}", json});
    QVERIFY2(ok.status == 200, ok.body.c_str());
    QCOMPARE(ok.body, std::string("{\"message\":\"schema validation successful\"}"));
    auto bad = a.handle({"POST", "/schemas/services/validate", "",
                         "{\"host\":\"example.com\",\"port\":70000}", json});
    QCOMPARE(bad.status, 400);
    QVERIFY2(body(bad).as_object()["fields"].as_object().contains("port"), bad.body.c_str());
    auto form = a.handle({"POST", "/schemas/routes/validate", "", "paths[]=/x&service.name=svc",
                          "application/x-www-form-urlencoded"});
    QVERIFY2(form.status == 200, form.body.c_str());
    QCOMPARE(*f.applied, 0);  // nothing was stored
    auto target = a.handle({"POST", "/schemas/targets/validate", "",
                            "{\"target\":\"10.0.0.2:80\"}", json});
    QCOMPARE(target.status, 400);
    QVERIFY2(target.body.find("upstream") != std::string::npos, target.body.c_str());
    target = a.handle({"POST", "/schemas/targets/validate", "",
                       "{\"target\":\"10.0.0.2:80\",\"upstream\":{\"name\":\"up\"}}", json});
    QVERIFY2(target.status == 200, target.body.c_str());
    QCOMPARE(a.handle({"GET", "/schemas/services/validate", ""}).status, 405);
  }

  void foreignEntityPaths() {
    Fixture f;
    auto a = f.api();
    auto svc = a.handle({"GET", "/routes/r1/service", ""});
    QCOMPARE(svc.status, 200);
    QCOMPARE(body(svc).as_object()["name"].as_string(), "svc");
    auto route = a.handle({"GET", "/plugins/cors-r1/route", ""});
    QCOMPARE(route.status, 200);
    QCOMPARE(body(route).as_object()["name"].as_string(), "r1");
    QCOMPARE(a.handle({"GET", "/plugins/cors-r1/consumer", ""}).status, 404);
    QCOMPARE(a.handle({"GET", "/routes/nope/service", ""}).status, 404);
    QCOMPARE(a.handle({"DELETE", "/routes/r1/service", ""}).status, 405);
  }

  void targetHealthIsSetByHand() {
    Fixture f;
    auto a = f.api();
    QCOMPARE(a.handle({"POST", "/upstreams/up/targets/10.0.0.1:80/unhealthy", ""}).status, 204);
    QCOMPARE(a.handle({"POST", "/upstreams/up/targets/10.0.0.1:80/10.0.0.1:80/healthy", ""})
                 .status,
             204);
    QCOMPARE(a.handle({"POST", "/upstreams/up/targets/10.9.9.9:80/healthy", ""}).status, 404);
    QCOMPARE(a.handle({"GET", "/upstreams/up/targets/10.0.0.1:80/healthy", ""}).status, 405);
    QCOMPARE(f.healthCalls->size(), std::size_t{2});
    QVERIFY(f.healthCalls->at(0).ends_with("10.0.0.1:80 unhealthy"));
    QVERIFY(f.healthCalls->at(1).ends_with("10.0.0.1:80 healthy"));
  }

  // With the per-address setter, .../targets/{t}/{address}/... sets that address only.
  void oneAddressOfATargetIsSetByHand() {
    Fixture f;
    f.addresses = true;
    auto a = f.api();
    QCOMPARE(a.handle({"POST", "/upstreams/up/targets/10.0.0.1:80/10.0.0.1/unhealthy", ""}).status,
             204);
    auto missing = a.handle({"POST", "/upstreams/up/targets/10.0.0.1:80/10.0.0.9/healthy", ""});
    QCOMPARE(missing.status, 404);
    QCOMPARE(body(missing).at("message").as_string(), "Not found");
    QCOMPARE(a.handle({"POST", "/upstreams/up/targets/10.0.0.1:80/healthy", ""}).status, 204);
    QCOMPARE(f.healthCalls->size(), std::size_t{2});
    QVERIFY(f.healthCalls->at(0).ends_with(" 10.0.0.1:80 10.0.0.1 unhealthy"));
    QVERIFY(f.healthCalls->at(1).ends_with(" 10.0.0.1:80 healthy"));
  }

  void readinessCanBeDrained() {
    auto a = Fixture().api();
    const std::string form = "application/x-www-form-urlencoded";
    QCOMPARE(a.handle({"GET", "/status/ready", ""}).status, 200);
    QCOMPARE(a.handle({"POST", "/status/ready", "", "status=draining", form}).status, 204);
    auto drained = a.handle({"GET", "/status/ready", ""});
    QCOMPARE(drained.status, 503);
    QCOMPARE(drained.body, std::string("{\"message\":\"draining\"}"));
    QCOMPARE(a.handle({"POST", "/status/ready", "", "status=sleepy", form}).status, 400);
    QCOMPARE(a.handle({"POST", "/status/ready", "", "status=ready", form}).status, 204);
    QCOMPARE(a.handle({"GET", "/status/ready", ""}).status, 200);
  }
};

QTEST_GUILESS_MAIN(NodeHandlersTest)
#include "node_handlers_test.moc"
