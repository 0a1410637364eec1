#include <QtTest>

#include <boost/json/parse.hpp>

#include "admin/admin_api.h"
#include "config/declarative.h"

using namespace archway;
namespace json = boost::json;

namespace {

std::shared_ptr<const core::Config> sample(int services) {
  std::string yaml = "_format_version: '3.0'\nservices:\n";
  for (int i = 0; i < services; ++i) {
    yaml += "- name: svc" + std::to_string(i) + "\n  url: http://up" + std::to_string(i) +
            ":8080/p\n  routes: [{name: r" + std::to_string(i) + ", paths: [/r" +
            std::to_string(i) + "]}]\n";
  }
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  return std::make_shared<const core::Config>(std::move(*c));
}

admin::AdminApi api(std::shared_ptr<const core::Config> cfg, std::string token = {}) {
  admin::AdminContext ctx;
  ctx.config = [cfg] { return cfg; };
  ctx.stats = [] { return std::make_shared<const metrics::StatsFrame>(); };
  ctx.nodeId = "node-1";
  ctx.token = std::move(token);
  ctx.workers = 2;
  return admin::AdminApi(std::move(ctx));
}

json::object get(const admin::AdminApi& a, std::string_view target, int expectStatus) {
  auto r = a.handle({"GET", target, ""});
  if (r.status != expectStatus)
    qFatal("GET %s: %d %s", std::string(target).c_str(), r.status, r.body.c_str());
  return json::parse(r.body).as_object();
}

}  // namespace

class AdminApiTest : public QObject {
  Q_OBJECT
 private slots:
  void rootDescribesTheNode() {
    auto a = api(sample(1));
    auto o = get(a, "/", 200);
    QCOMPARE(o["node_id"].as_string(), "node-1");
    QVERIFY(o.contains("version"));
    QVERIFY(o["plugins"].as_object().contains("available_on_server"));
    QCOMPARE(o["pids"].as_object()["workers"].as_array().size(), std::size_t{2});
  }

  void statusHasServerCountersAndDatabase() {
    auto o = get(api(sample(1)), "/status", 200);
    QVERIFY(o["server"].as_object().contains("connections_active"));
    QVERIFY(o["server"].as_object().contains("total_requests"));
    QCOMPARE(o["database"].as_object()["reachable"].as_bool(), true);
  }

  void listsServicesInKongShape() {
    auto o = get(api(sample(2)), "/services", 200);
    auto& data = o["data"].as_array();
    QCOMPARE(data.size(), std::size_t{2});
    auto& s = data[0].as_object();
    QCOMPARE(s["name"].as_string(), "svc0");
    QCOMPARE(s["host"].as_string(), "up0");
    QCOMPARE(s["port"].as_int64(), 8080);
    QCOMPARE(s["path"].as_string(), "/p");
    QCOMPARE(s["protocol"].as_string(), "http");
    QCOMPARE(s["retries"].as_int64(), 5);
    QVERIFY(s["tags"].is_null());
    QVERIFY(o["next"].is_null());
  }

  void listsRoutesWithTheirServiceId() {
    auto cfg = sample(1);
    auto o = get(api(cfg), "/routes", 200);
    auto& r = o["data"].as_array()[0].as_object();
    QCOMPARE(r["service"].as_object()["id"].as_string(), cfg->services[0].id.c_str());
    QCOMPARE(r["paths"].as_array()[0].as_string(), "/r0");
    QVERIFY(r["methods"].is_null());
    QCOMPARE(r["strip_path"].as_bool(), true);
  }

  void paginatesWithSizeAndOffset() {
    auto a = api(sample(5));
    auto first = get(a, "/services?size=2", 200);
    QCOMPARE(first["data"].as_array().size(), std::size_t{2});
    QVERIFY(first["next"].is_string());
    std::string next(first["next"].as_string());
    auto second = get(a, next, 200);
    QCOMPARE(second["data"].as_array()[0].as_object()["name"].as_string(), "svc2");
    auto last = get(a, "/services?size=2&offset=4", 200);
    QCOMPARE(last["data"].as_array().size(), std::size_t{1});
    QVERIFY(last["next"].is_null());
  }

  void rejectsInvalidSizeWithKongError() {
    auto o = get(api(sample(1)), "/services?size=5000", 400);
    QCOMPARE(o["code"].as_int64(), 9);
    QCOMPARE(o["name"].as_string(), "invalid size");
  }

  void findsEntitiesByIdOrName() {
    auto cfg = sample(2);
    auto a = api(cfg);
    QCOMPARE(get(a, "/services/svc1", 200)["host"].as_string(), "up1");
    QCOMPARE(get(a, "/services/" + cfg->services[0].id, 200)["name"].as_string(), "svc0");
    QCOMPARE(get(a, "/routes/r1", 200)["name"].as_string(), "r1");
    QCOMPARE(get(a, "/services/svc1/routes", 200)["data"].as_array().size(), std::size_t{1});
  }

  void answersKongNotFoundAndMethodNotAllowed() {
    auto a = api(sample(1));
    QCOMPARE(get(a, "/services/ghost", 404)["message"].as_string(), "Not found");
    QCOMPARE(get(a, "/nope", 404)["message"].as_string(), "Not found");
    auto r = a.handle({"DELETE", "/status", ""});
    QCOMPARE(r.status, 405);
    QCOMPARE(json::parse(r.body).as_object()["message"].as_string(), "Method not allowed");
  }

  void requiresTheTokenWhenConfigured() {
    auto a = api(sample(1), "s3cret");
    QCOMPARE(a.handle({"GET", "/", ""}).status, 401);
    QCOMPARE(a.handle({"GET", "/", "wrong"}).status, 401);
    QCOMPARE(a.handle({"GET", "/", "s3cret"}).status, 200);
  }
};

QTEST_GUILESS_MAIN(AdminApiTest)
#include "admin_api_test.moc"
