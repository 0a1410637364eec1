// The Admin API's write side driven directly: a local config swapped by apply(), validated by
// config::validate as the engine would.
#include <QtTest>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_api.h"
#include "config/declarative.h"
#include "config/export.h"

using namespace archway;
namespace json = boost::json;

namespace {

struct Fixture {
  std::shared_ptr<const core::Config> current = std::make_shared<const core::Config>();
  int applies = 0;
  std::unique_ptr<admin::AdminApi> api;

  Fixture() {
    admin::AdminContext ctx;
    ctx.config = [this] { return current; };
    ctx.stats = [] { return std::make_shared<const metrics::StatsFrame>(); };
    ctx.apply = [this](core::Config c) -> core::Status {
      if (auto v = config::validate(c); !v) return v;
      current = std::make_shared<const core::Config>(std::move(c));
      ++applies;
      return core::Ok{};
    };
    api = std::make_unique<admin::AdminApi>(std::move(ctx));
  }

  admin::AdminResponse call(std::string_view method, std::string_view target,
                            std::string_view body = {},
                            std::string_view type = "application/json") {
    return api->handle({method, target, "", body, type});
  }

  json::object expect(std::string_view method, std::string_view target, int status,
                      std::string_view body = {}, std::string_view type = "application/json") {
    auto r = call(method, target, body, type);
    if (r.status != status) {
      qWarning("%s %s: %d %s", std::string(method).c_str(), std::string(target).c_str(), r.status,
               r.body.c_str());
      return json::object{{"__unexpected_status", r.status}};
    }
    if (r.body.empty()) return {};
    return json::parse(r.body).as_object();
  }
};

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

}  // namespace

class AdminWriteTest : public QObject {
  Q_OBJECT
 private slots:
  void createsAServiceWithUrlShorthand() {
    Fixture f;
    auto s = f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"url\":\"https://up:8443/p\"}");
    QCOMPARE(str(s["protocol"]), "https");
    QCOMPARE(str(s["host"]), "up");
    QCOMPARE(s["port"].as_int64(), 8443);
    QCOMPARE(str(s["path"]), "/p");
    QVERIFY(s["created_at"].as_int64() > 0);
    const std::string id = str(s["id"]);
    QCOMPARE(id.size(), std::size_t{36});
    QCOMPARE(str(f.expect("GET", "/services/" + id, 200)["name"]), "svc");
    QCOMPARE(str(f.expect("GET", "/services/svc", 200)["id"]), id);
  }

  void createsFromFormUrlencoded() {
    Fixture f;
    f.expect("POST", "/services", 201, "name=svc&url=http%3A%2F%2Fa%3A81",
             "application/x-www-form-urlencoded");
    auto r = f.expect("POST", "/routes", 201,
                      "name=r&paths[]=/a&paths[]=/b&methods=GET&methods=POST&service.name=svc"
                      "&strip_path=false",
                      "application/x-www-form-urlencoded");
    QCOMPARE(r["paths"].as_array().size(), std::size_t{2});
    QCOMPARE(str(r["paths"].as_array()[1]), "/b");
    QCOMPARE(r["methods"].as_array().size(), std::size_t{2});
    QCOMPARE(r["strip_path"].as_bool(), false);
    QCOMPARE(str(r["service"].as_object()["id"]), f.current->services[0].id);
    auto single =
        f.expect("POST", "/routes", 201, "paths=/only", "application/x-www-form-urlencoded");
    QCOMPARE(str(single["paths"].as_array()[0]), "/only");
  }

  void createsFromMultipart() {
    Fixture f;
    std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nsvc\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nexample.com\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"port\"\r\n\r\n8080\r\n--XyZ--\r\n";
    auto s = f.expect("POST", "/services", 201, body, "multipart/form-data; boundary=XyZ");
    QCOMPARE(str(s["host"]), "example.com");
    QCOMPARE(s["port"].as_int64(), 8080);
  }

  void patchesOnlyTheGivenFields() {
    Fixture f;
    auto s = f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"host\":\"a\",\"retries\":2}");
    auto p = f.expect("PATCH", "/services/svc", 200, "{\"port\":8080}");
    QCOMPARE(str(p["host"]), "a");
    QCOMPARE(p["port"].as_int64(), 8080);
    QCOMPARE(p["retries"].as_int64(), 2);
    QCOMPARE(str(p["id"]), str(s["id"]));
    auto u = f.expect("PATCH", "/services/" + str(s["id"]), 200, "{\"url\":\"http://b:9/x\"}");
    QCOMPARE(str(u["host"]), "b");
    QCOMPARE(u["port"].as_int64(), 9);
    QCOMPARE(str(u["path"]), "/x");
    QCOMPARE(f.expect("PATCH", "/services/ghost", 404, "{}")["message"].as_string(), "Not found");
  }

  void putUpsertsByNameAndById() {
    Fixture f;
    auto created = f.expect("PUT", "/services/svc", 200, "{\"host\":\"a\"}");
    QCOMPARE(str(created["name"]), "svc");
    auto replaced = f.expect("PUT", "/services/svc", 200, "{\"host\":\"b\"}");
    QCOMPARE(str(replaced["id"]), str(created["id"]));
    QCOMPARE(str(replaced["host"]), "b");
    const std::string id = "6b3b9a36-04bd-4ed1-a5a6-2e7a5c4f4c11";
    auto byId = f.expect("PUT", "/services/" + id, 200, "{\"host\":\"c\"}");
    QCOMPARE(str(byId["id"]), id);
    QCOMPARE(f.current->services.size(), std::size_t{2});
  }

  void deletesAndMissingDeleteIs204() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"host\":\"a\"}");
    QCOMPARE(f.call("DELETE", "/services/svc").status, 204);
    QVERIFY(f.current->services.empty());
    QCOMPARE(f.call("DELETE", "/services/svc").status, 204);
    f.expect("GET", "/services/svc", 404);
  }

  void refusesToDeleteAServiceWithRoutes() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"host\":\"a\"}");
    f.expect("POST", "/services/svc/routes", 201, "{\"paths\":[\"/a\"]}");
    auto e = f.expect("DELETE", "/services/svc", 400);
    QCOMPARE(e["code"].as_int64(), 4);
    QCOMPARE(str(e["fields"].as_object()["@referenced_by"]), "routes");
    QCOMPARE(f.current->services.size(), std::size_t{1});
  }

  void duplicateNameIsAUniqueViolation() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"host\":\"a\"}");
    int before = f.applies;
    auto e = f.expect("POST", "/services", 409, "{\"name\":\"svc\",\"host\":\"b\"}");
    QCOMPARE(e["code"].as_int64(), 5);
    QCOMPARE(str(e["name"]), "unique constraint violation");
    QCOMPARE(str(e["message"]), "UNIQUE violation detected on '{name=\"svc\"}'");
    QCOMPARE(str(e["fields"].as_object()["name"]), "svc");
    QCOMPARE(f.applies, before);
  }

  void schemaViolationsCarryKongFieldPaths() {
    Fixture f;
    auto e = f.expect("POST", "/services", 400, "{\"name\":\"svc\"}");
    QCOMPARE(e["code"].as_int64(), 2);
    QCOMPARE(str(e["name"]), "schema violation");
    QCOMPARE(str(e["message"]), "schema violation (host: required field missing)");
    QCOMPARE(str(e["fields"].as_object()["host"]), "required field missing");

    auto r = f.expect("POST", "/routes", 400, "{\"protocols\":[\"foo\"],\"paths\":[\"/a\"]}");
    QCOMPARE(str(r["message"]),
             "schema violation (protocols.1: expected one of: grpc, grpcs, http, https, tcp, "
             "tls, tls_passthrough, udp)");
    QCOMPARE(str(r["fields"].as_object()["protocols"].as_array()[0]),
             "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp");

    auto two = f.expect("POST", "/services", 400, "{\"host\":\"a\",\"port\":\"x\",\"bogus\":1}");
    QVERIFY(str(two["message"]).rfind("2 schema violations (", 0) == 0);
    QCOMPARE(str(two["fields"].as_object()["bogus"]), "unknown field");

    auto entity = f.expect("POST", "/routes", 400, "{\"name\":\"r\"}");
    QVERIFY(entity["fields"].as_object()["@entity"].is_array());
    QVERIFY(f.current->routes.empty());
  }

  void badJsonIsRejected() {
    Fixture f;
    QCOMPARE(str(f.expect("POST", "/services", 400, "{nope")["message"]), "Cannot parse JSON body");
  }

  void routeToAMissingServiceIsAForeignKeyViolation() {
    Fixture f;
    auto e = f.expect(
        "POST", "/routes", 400,
        "{\"paths\":[\"/a\"],\"service\":{\"id\":\"6b3b9a36-04bd-4ed1-a5a6-2e7a5c4f4c11\"}}");
    QCOMPARE(e["code"].as_int64(), 4);
  }

  void nestedRoutesBelongToTheirService() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"s1\",\"host\":\"a\"}");
    f.expect("POST", "/services", 201, "{\"name\":\"s2\",\"host\":\"b\"}");
    auto r = f.expect("POST", "/services/s1/routes", 201, "{\"name\":\"r1\",\"paths\":[\"/a\"]}");
    QCOMPARE(str(r["service"].as_object()["id"]), f.current->services[0].id);
    QCOMPARE(f.expect("GET", "/services/s1/routes", 200)["data"].as_array().size(), std::size_t{1});
    QCOMPARE(str(f.expect("GET", "/services/s1/routes/r1", 200)["name"]), "r1");
    f.expect("GET", "/services/s2/routes/r1", 404);
    f.expect("PATCH", "/services/s2/routes/r1", 404, "{}");
    auto p = f.expect("PATCH", "/services/s1/routes/r1", 200, "{\"paths\":[\"/b\"]}");
    QCOMPARE(str(p["paths"].as_array()[0]), "/b");
    QCOMPARE(str(p["service"].as_object()["id"]), f.current->services[0].id);
    f.expect("POST", "/services/ghost/routes", 404, "{\"paths\":[\"/a\"]}");
    QCOMPARE(f.call("DELETE", "/services/s1/routes/r1").status, 204);
    QVERIFY(f.current->routes.empty());
  }

  void routeCrudByIdAndName() {
    Fixture f;
    auto r = f.expect("POST", "/routes", 201, "{\"name\":\"r\",\"hosts\":[\"x.com\"]}");
    const std::string id = str(r["id"]);
    QCOMPARE(str(f.expect("GET", "/routes/" + id, 200)["name"]), "r");
    auto p = f.expect("PATCH", "/routes/r", 200, "{\"preserve_host\":true}");
    QCOMPARE(p["preserve_host"].as_bool(), true);
    QCOMPARE(str(p["hosts"].as_array()[0]), "x.com");
    auto put = f.expect("PUT", "/routes/r", 200, "{\"paths\":[\"/z\"]}");
    QCOMPARE(str(put["id"]), id);
    QVERIFY(put["hosts"].is_null());
    QCOMPARE(f.call("DELETE", "/routes/" + id).status, 204);
    f.expect("GET", "/routes/r", 404);
  }

  void upstreamAndTargetLifecycle() {
    Fixture f;
    auto u = f.expect("POST", "/upstreams", 201, "{\"name\":\"up.internal\"}");
    QCOMPARE(str(u["algorithm"]), "round-robin");
    auto p = f.expect("PATCH", "/upstreams/up.internal", 200,
                      "{\"healthchecks\":{\"active\":{\"healthy\":{\"interval\":5}}}}");
    auto& active = p["healthchecks"].as_object()["active"].as_object();
    QCOMPARE(active["healthy"].as_object()["interval"].as_int64(), 5);
    QCOMPARE(str(active["http_path"]), "/");
    auto t = f.expect("POST", "/upstreams/up.internal/targets", 201, "{\"target\":\"10.0.0.1\"}");
    QCOMPARE(str(t["target"]), "10.0.0.1:8000");
    QCOMPARE(t["weight"].as_int64(), 100);
    QVERIFY(t["created_at"].as_double() > 0);
    f.expect("POST", "/upstreams/up.internal/targets", 201, "target=10.0.0.2:81&weight=5",
             "application/x-www-form-urlencoded");
    f.expect("POST", "/upstreams/up.internal/targets", 409, "{\"target\":\"10.0.0.1:8000\"}");
    f.expect("POST", "/upstreams/ghost/targets", 404, "{\"target\":\"10.0.0.1\"}");
    QCOMPARE(f.expect("GET", "/upstreams/up.internal/targets", 200)["data"].as_array().size(),
             std::size_t{2});
    QCOMPARE(
        f.expect("GET", "/upstreams/up.internal/targets/10.0.0.2:81", 200)["weight"].as_int64(), 5);
    QCOMPARE(f.call("DELETE", "/upstreams/up.internal/targets/" + str(t["id"])).status, 204);
    QCOMPARE(f.current->targets.size(), std::size_t{1});
    f.expect("GET", "/targets", 404);
    QCOMPARE(f.call("DELETE", "/upstreams/up.internal").status, 204);
    QVERIFY(f.current->upstreams.empty());
    QVERIFY(f.current->targets.empty());  // cascaded
  }

  void unsupportedMethodsAre405AndOptions204() {
    Fixture f;
    QCOMPARE(f.call("POST", "/services/x").status, 405);
    QCOMPARE(f.call("PUT", "/services").status, 405);
    QCOMPARE(f.call("TRACE", "/services").status, 405);
    QCOMPARE(f.call("OPTIONS", "/services").status, 204);
    QCOMPARE(f.call("DELETE", "/config").status, 405);
  }

  void paginationStillRightAfterWrites() {
    Fixture f;
    for (int i = 0; i < 5; ++i) {
      f.expect("POST", "/services", 201,
               "{\"name\":\"s" + std::to_string(i) + "\",\"host\":\"h\"}");
    }
    QCOMPARE(f.call("DELETE", "/services/s1").status, 204);
    auto first = f.expect("GET", "/services?size=2", 200);
    QCOMPARE(first["data"].as_array().size(), std::size_t{2});
    QCOMPARE(str(first["data"].as_array()[1].as_object()["name"]), "s2");
    auto second = f.expect("GET", str(first["next"]), 200);
    QCOMPARE(second["data"].as_array().size(), std::size_t{2});
    QVERIFY(second["next"].is_null());
  }

  void getNeverMutates() {
    Fixture f;
    f.expect("GET", "/services", 200);
    f.expect("GET", "/config", 200);
    QCOMPARE(f.applies, 0);
  }

  void exportReadsBackToTheSameConfig() {
    auto parsed = config::parseDeclarative(
        "_format_version: '3.0'\n"
        "services:\n"
        "- name: a\n  url: http://a:81/p\n  tags: [x, 'true']\n"
        "  routes: [{name: ra, paths: [/a, '~/re$'], methods: [GET], headers: {x-v: [1, 2]}}]\n"
        "- name: b\n  host: b\n  enabled: false\n"
        "routes: [{name: loose, hosts: ['*.example.com']}]\n"
        "upstreams:\n"
        "- name: up\n  hash_on: header\n  hash_on_header: x-user\n"
        "  healthchecks: {active: {healthy: {interval: 3}}, threshold: 25}\n"
        "  targets: [{target: 10.0.0.1:80, weight: 7}]\n");
    QVERIFY2(parsed.ok(), parsed.errorText().c_str());
    core::Config original = *parsed;
    original.targets[0].createdAt = original.targets[0].updatedAt = 1712345678.123;
    const std::string yaml = config::exportYaml(original);
    auto back = config::parseDeclarative(yaml);
    QVERIFY2(back.ok(), (back.errorText() + "\n" + yaml).c_str());
    QVERIFY2(*back == original, yaml.c_str());
    QCOMPARE(config::configHash(*back), config::configHash(original));
  }

  void getConfigReturnsTheYamlDocument() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"host\":\"a\"}");
    f.expect("POST", "/services/svc/routes", 201, "{\"name\":\"r\",\"paths\":[\"/a\"]}");
    auto o = f.expect("GET", "/config", 200);
    auto back = config::parseDeclarative(str(o["config"]));
    QVERIFY2(back.ok(), back.errorText().c_str());
    QVERIFY(*back == *f.current);
  }

  void postConfigLoadsAJsonDocument() {
    Fixture f;
    auto o = f.expect("POST", "/config", 201,
                      "{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"s\",\"host\":\"h\","
                      "\"routes\":[{\"name\":\"r\",\"paths\":[\"/r\"]}]}]}");
    QCOMPARE(o["services"].as_object().size(), std::size_t{1});
    QCOMPARE(o["routes"].as_object().size(), std::size_t{1});
    QCOMPARE(f.current->routes.size(), std::size_t{1});
    // Kong's flattened entities: each kind maps ids to the entities as GET returns them.
    const auto& route = o["routes"].as_object().at(f.current->routes[0].id).as_object();
    QCOMPARE(str(route.at("name")), "r");
    QCOMPARE(str(route.at("service").as_object().at("id")), f.current->services[0].id);
    QVERIFY(o["upstreams"].as_object().empty());
    QVERIFY(o["targets"].as_object().empty());
  }

  void postConfigAcceptsAFormConfigFieldWithYaml() {
    Fixture f;
    std::string yaml = "_format_version: '3.0'\nservices: [{name: s, host: h}]\n";
    std::string encoded;
    for (char c : yaml) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        encoded += c;
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
        encoded += buf;
      }
    }
    f.expect("POST", "/config", 201, "config=" + encoded, "application/x-www-form-urlencoded");
    QCOMPARE(f.current->services.size(), std::size_t{1});
  }

  void postConfigRejectsAnInvalidDocumentAndKeepsTheOld() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"keep\",\"host\":\"a\"}");
    auto e = f.expect("POST", "/config", 400,
                      "{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"s\"}]}");
    QCOMPARE(e["code"].as_int64(), 14);
    QCOMPARE(str(e["name"]), "invalid declarative configuration");
    QVERIFY(str(e["message"]).rfind("declarative config is invalid: ", 0) == 0);
    auto& services = e["fields"].as_object()["services"].as_array();
    QCOMPARE(str(services[0].as_object()["host"]), "required field missing");
    QCOMPARE(f.current->services.size(), std::size_t{1});
    QCOMPARE(str(f.expect("POST", "/config", 400, "")["message"]),
             "expected a declarative configuration");
  }

  void postConfigWithCheckHashIs304WhenUnchanged() {
    Fixture f;
    const std::string doc =
        "{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"s\",\"host\":\"h\"}]}";
    f.expect("POST", "/config?check_hash=1", 201, doc);
    const std::string hash = str(f.expect("GET", "/status", 200)["configuration_hash"]);
    QCOMPARE(hash.size(), std::size_t{32});
    QCOMPARE(f.call("POST", "/config?check_hash=1", doc).status, 304);
    QCOMPARE(f.call("POST", "/config", doc).status, 201);
    f.expect("POST", "/config?check_hash=1", 201,
             "{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"s\",\"host\":\"other\"}]}");
    QVERIFY(str(f.expect("GET", "/status", 200)["configuration_hash"]) != hash);
  }
};

QTEST_GUILESS_MAIN(AdminWriteTest)
#include "admin_write_test.moc"
