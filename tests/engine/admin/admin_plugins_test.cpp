// Consumers, credentials, plugins and plugin schemas on the Admin API, driven directly: Kong's
// shapes, status codes and errors, nested scopes, cascades and form input typed by the schema.
#include <QtTest>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_api.h"
#include "config/declarative.h"
#include "core/log.h"

using namespace archway;
namespace json = boost::json;

namespace {

struct Fixture {
  std::shared_ptr<const core::Config> current = std::make_shared<const core::Config>();
  std::unique_ptr<admin::AdminApi> api;

  Fixture() {
    admin::AdminContext ctx;
    ctx.config = [this] { return current; };
    ctx.stats = [] { return std::make_shared<const metrics::StatsFrame>(); };
    ctx.apply = [this](core::Config c) -> core::Status {
      if (auto v = config::validate(c); !v) return v;
      current = std::make_shared<const core::Config>(std::move(c));
      return core::Ok{};
    };
    api = std::make_unique<admin::AdminApi>(std::move(ctx));
  }

  json::object expect(std::string_view method, std::string_view target, int status,
                      std::string_view body = {}, std::string_view type = "application/json") {
    auto r = api->handle({method, target, "", body, type});
    if (r.status != status) {
      qWarning("%s %s: %d %s", std::string(method).c_str(), std::string(target).c_str(), r.status,
               r.body.c_str());
      return json::object{{"__unexpected_status", r.status}};
    }
    if (r.body.empty()) return {};
    return json::parse(r.body).as_object();
  }
};

std::string str(const json::value& v) { return std::string(v.as_string()); }

}  // namespace

class AdminPluginsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void consumersAndCredentials() {
    Fixture f;
    auto c = f.expect("POST", "/consumers", 201, "{\"username\":\"alice\",\"custom_id\":\"a1\"}");
    QCOMPARE(str(c.at("username")), std::string("alice"));
    const std::string id = str(c.at("id"));
    f.expect("POST", "/consumers", 409, "{\"username\":\"alice\"}");
    auto bad = f.expect("POST", "/consumers", 400, "{\"tags\":[\"x\"]}");
    QCOMPARE(bad.at("code").as_int64(), std::int64_t(2));

    auto key = f.expect("POST", "/consumers/alice/key-auth", 201, "{\"key\":\"secret\"}");
    QCOMPARE(str(key.at("key")), std::string("secret"));
    QCOMPARE(str(key.at("consumer").at("id")), id);
    auto generated = f.expect("POST", "/consumers/alice/key-auth", 201, "");
    QVERIFY(!str(generated.at("key")).empty());
    f.expect("POST", "/consumers/alice/key-auth", 409, "{\"key\":\"secret\"}");
    QCOMPARE(f.expect("GET", "/consumers/alice/key-auth", 200).at("data").as_array().size(),
             std::size_t(2));
    QCOMPARE(f.expect("GET", "/key-auths", 200).at("data").as_array().size(), std::size_t(2));
    QCOMPARE(str(f.expect("GET", "/key-auths/secret/consumer", 200).at("username")),
             std::string("alice"));

    // basic-auth: the password is stored as Kong's sha1(password .. consumer_id).
    auto basic = f.expect("POST", "/consumers/alice/basic-auth", 201,
                          "username=alice&password=pw", "application/x-www-form-urlencoded");
    QCOMPARE(str(basic.at("password")).size(), std::size_t(40));
    QVERIFY(str(basic.at("password")) != "pw");

    f.expect("POST", "/consumers/alice/acls", 201, "{\"group\":\"admins\"}");
    f.expect("POST", "/consumers/alice/jwt", 201, "{\"key\":\"iss-1\",\"secret\":\"s\"}");
    QCOMPARE(f.expect("GET", "/jwts/iss-1", 200).at("algorithm").as_string(), "HS256");

    f.expect("DELETE", "/consumers/alice/key-auth/secret", 204);
    QCOMPARE(f.current->keyauthCredentials.size(), std::size_t(1));
    f.expect("GET", "/consumers/nobody/key-auth", 404);

    // Deleting the consumer takes its credentials along.
    f.expect("DELETE", "/consumers/alice", 204);
    QVERIFY(f.current->consumers.empty());
    QVERIFY(f.current->keyauthCredentials.empty());
    QVERIFY(f.current->basicauthCredentials.empty());
    QVERIFY(f.current->acls.empty());
    QVERIFY(f.current->jwtSecrets.empty());
  }

  void pluginsAtEveryScope() {
    Fixture f;
    f.expect("POST", "/services", 201, "{\"name\":\"svc\",\"url\":\"http://example.com\"}");
    f.expect("POST", "/services/svc/routes", 201, "{\"name\":\"r\",\"paths\":[\"/r\"]}");
    f.expect("POST", "/consumers", 201, "{\"username\":\"bob\"}");

    auto global = f.expect("POST", "/plugins", 201, "{\"name\":\"rate-limiting\",\"config\":{\"minute\":5}}");
    QCOMPARE(str(global.at("config").at("policy")), std::string("local"));  // default filled
    QVERIFY(global.at("route").is_null());
    auto onRoute = f.expect("POST", "/routes/r/plugins", 201, "{\"name\":\"key-auth\"}");
    QCOMPARE(str(onRoute.at("route").at("id")), f.current->routes[0].id);
    auto onService = f.expect("POST", "/services/svc/plugins", 201,
                              "name=cors&config.origins=https://a.example&config.max_age=60",
                              "application/x-www-form-urlencoded");
    QCOMPARE(onService.at("config").at("max_age").to_number<double>(), 60.0);  // typed
    QCOMPARE(onService.at("config").at("origins").as_array().size(), std::size_t(1));
    f.expect("POST", "/consumers/bob/plugins", 201,
             "{\"name\":\"rate-limiting\",\"config\":{\"minute\":1}}");
    // One plugin of a name per scope.
    f.expect("POST", "/routes/r/plugins", 409, "{\"name\":\"key-auth\"}");

    QCOMPARE(f.expect("GET", "/plugins", 200).at("data").as_array().size(), std::size_t(4));
    QCOMPARE(f.expect("GET", "/routes/r/plugins", 200).at("data").as_array().size(), std::size_t(1));
    QCOMPARE(f.expect("GET", "/consumers/bob/plugins", 200).at("data").as_array().size(),
             std::size_t(1));

    auto err = f.expect("POST", "/plugins", 400, "{\"name\":\"rate-limiting\",\"config\":{\"minute\":-1}}");
    QCOMPARE(str(err.at("name")), std::string("schema violation"));
    QVERIFY(err.at("fields").at("config").as_object().contains("minute"));
    auto unknown = f.expect("POST", "/plugins", 400, "{\"name\":\"nope\"}");
    QVERIFY(unknown.at("fields").as_object().contains("name"));
    auto missingRoute =
        f.expect("POST", "/plugins", 400, "{\"name\":\"cors\",\"route\":{\"id\":\"00000000-0000-4000-8000-000000000000\"}}");
    QCOMPARE(str(missingRoute.at("name")), std::string("foreign key violation"));

    // PATCH merges config fields.
    const std::string gid = str(global.at("id"));
    auto patched = f.expect("PATCH", "/plugins/" + gid, 200, "{\"config\":{\"hour\":100}}");
    QCOMPARE(patched.at("config").at("minute").to_number<double>(), 5.0);
    QCOMPARE(patched.at("config").at("hour").to_number<double>(), 100.0);
    f.expect("PATCH", "/plugins/" + gid, 400, "{\"config\":{\"hour\":1}}");  // hour < minute
    auto disabled = f.expect("PATCH", "/plugins/" + gid, 200, "{\"enabled\":false}");
    QCOMPARE(disabled.at("enabled").as_bool(), false);

    // Deleting the route cascades its plugins.
    f.expect("DELETE", "/routes/r", 204);
    QCOMPARE(f.current->plugins.size(), std::size_t(3));
    f.expect("DELETE", "/plugins/" + gid, 204);
    f.expect("GET", "/plugins/" + gid, 404);
  }

  void schemasAndEnabledList() {
    Fixture f;
    auto enabled = f.expect("GET", "/plugins/enabled", 200);
    bool hasKeyAuth = false;
    for (const auto& n : enabled.at("enabled_plugins").as_array()) hasKeyAuth |= n.as_string() == "key-auth";
    QVERIFY(hasKeyAuth);
    auto schema = f.expect("GET", "/schemas/plugins/rate-limiting", 200);
    const auto text = json::serialize(schema);
    QVERIFY(text.find("\"policy\"") != std::string::npos);
    QVERIFY(text.find("\"one_of\"") != std::string::npos);
    f.expect("GET", "/schemas/plugins/no-such", 404);
    f.expect("POST", "/schemas/plugins/validate", 200,
             "{\"name\":\"key-auth\",\"config\":{\"key_names\":[\"k\"]}}");
    f.expect("POST", "/schemas/plugins/validate", 400,
             "{\"name\":\"key-auth\",\"config\":{\"key_names\":7}}");
  }

  void logLevelChangesAtRunTime() {
    Fixture f;
    const auto before = core::log::level();
    f.expect("PUT", "/debug/node/log-level/debug", 200);
    QCOMPARE(str(f.expect("GET", "/debug/node/log-level", 200).at("message")),
             std::string("log level: debug"));
    QVERIFY(core::log::level() == core::log::Level::debug);
    f.expect("PUT", "/debug/node/log-level/loud", 400);
    core::log::setLevel(before);
  }
};

QTEST_GUILESS_MAIN(AdminPluginsTest)
#include "admin_plugins_test.moc"
