// JSON documents are read without the YAML scanner (config/json_node.h); what they parse to,
// and the errors they give, must be what the YAML reading of the same text gives, but for a
// JSON number or boolean where a string is expected (refused, as Kong's schema does). A leading
// comment line ("#\n") sends the same JSON text through yaml-cpp, for comparison.
#include <QtTest>

#include <boost/json.hpp>

#include "config/declarative.h"
#include "config/export.h"
#include "config/json_node.h"
#include "test_certificates.h"

using namespace archway;
namespace json = boost::json;

namespace {

// Entities without a created_at get the parse time: equal up to that.
core::Config withoutTimes(core::Config c) {
  auto clear = [](auto& all) {
    for (auto& e : all) {
      e.createdAt = {};
      if constexpr (requires { e.updatedAt; }) e.updatedAt = {};
    }
  };
  clear(c.services);
  clear(c.routes);
  clear(c.upstreams);
  clear(c.targets);
  clear(c.consumers);
  clear(c.keyauthCredentials);
  clear(c.basicauthCredentials);
  clear(c.jwtSecrets);
  clear(c.acls);
  clear(c.plugins);
  clear(c.certificates);
  clear(c.snis);
  clear(c.caCertificates);
  return c;
}

std::string errorsOf(const core::Result<core::Config>& r) {
  std::string out;
  for (const auto& e : r.errors()) out += e.path + ": " + e.message + "\n";
  return out;
}

// Parses `text` as JSON (the fast reading) and as YAML; both must agree.
void expectSameReading(const std::string& text) {
  QVERIFY2(config::JsonDoc::parse(text).has_value(), text.c_str());
  auto fromJson = config::parseDeclarative(text);
  auto fromYaml = config::parseDeclarative("#\n" + text);
  QCOMPARE(fromJson.ok(), fromYaml.ok());
  if (!fromJson.ok()) {
    QCOMPARE(errorsOf(fromJson), errorsOf(fromYaml));
    return;
  }
  QVERIFY2(withoutTimes(*fromJson) == withoutTimes(*fromYaml), text.c_str());
}

// A document of one service with `fields`, and one with `fields` at the top level.
std::string service(const std::string& fields) {
  return "{\"_format_version\":\"3.0\",\"services\":[{" + fields + "}]}";
}
std::string top(const std::string& fields) {
  return "{\"_format_version\":\"3.0\"," + fields + "}";
}

json::object document() {
  auto tls = testing::makeCertificate();
  auto ca = testing::makeCertificate({.ca = true});
  return json::object{
      {"_format_version", "3.0"},
      {"_comment", "every kind of entity"},
      {"services",
       json::array{
           json::object{
               {"name", "users"},
               {"url", "http://users.internal:8080/v1"},
               {"retries", 3},
               {"connect_timeout", 1500},
               {"tags", json::array{"a", "b-c"}},
               {"routes",
                json::array{json::object{
                    {"name", "users-route"},
                    {"paths", json::array{"/users", "~/items/(?<id>\\d+)$"}},
                    {"methods", json::array{"GET", "POST"}},
                    {"hosts", json::array{"*.example.com"}},
                    {"headers", json::object{{"X-Version", json::array{"1", "2"}}}},
                    {"strip_path", false},
                    {"regex_priority", -3},
                    {"plugins", json::array{json::object{
                                    {"name", "rate-limiting"},
                                    {"config", json::object{{"minute", 20},
                                                            {"policy", "local"},
                                                            {"fault_tolerant", true}}}}}}}}}},
           json::object{{"name", "tls-svc"},
                        {"protocol", "https"},
                        {"host", "secure.internal"},
                        {"port", 8443},
                        {"tls_verify", true},
                        {"tls_verify_depth", 2},
                        {"ca_certificates", json::array{"7e1c2b0e-52a3-4c34-9b6f-3f3c5e1d6a01"}}}}},
      {"upstreams",
       json::array{json::object{
           {"name", "backend.internal"},
           {"algorithm", "consistent-hashing"},
           {"hash_on", "header"},
           {"hash_on_header", "x-user"},
           {"healthchecks",
            json::object{
                {"threshold", 12.5},
                {"active",
                 json::object{{"http_path", "/health"},
                              {"healthy", json::object{{"interval", 5},
                                                       {"http_statuses", json::array{200, 204}}}}}},
                {"passive", json::object{{"unhealthy", json::object{{"timeouts", 3}}}}}}},
           {"targets",
            json::array{json::object{{"target", "10.0.0.1:8000"}, {"weight", 50}},
                        json::object{{"target", "10.0.0.2"}, {"created_at", 1700000000.123}}}}}}},
      {"consumers",
       json::array{
           json::object{{"username", "alice"},
                        {"custom_id", "A-1"},
                        {"tags", json::array{"gold"}},
                        {"keyauth_credentials", json::array{json::object{{"key", "alice-key"}}}},
                        {"basicauth_credentials",
                         json::array{json::object{{"username", "alice"}, {"password", "s3cret"}}}},
                        {"jwt_secrets",
                         json::array{json::object{
                             {"key", "iss-alice"}, {"secret", "shh"}, {"algorithm", "HS384"}}}},
                        {"acls", json::array{json::object{{"group", "admins"}}}},
                        {"plugins",
                         json::array{json::object{
                             {"name", "request-termination"},
                             {"config", json::object{{"status_code", 403}, {"message", "no"}}}}}}},
           json::object{{"username", "bob"}, {"created_at", 1700000000}}}},
      {"keyauth_credentials",
       json::array{json::object{{"key", "bob-key"}, {"ttl", 3600}, {"consumer", "bob"}}}},
      {"acls", json::array{json::object{{"group", "users"},
                                        {"consumer", json::object{{"username", "bob"}}}}}},
      {"plugins",
       json::array{json::object{{"name", "cors"},
                                {"config", json::object{{"origins", json::array{"*"}},
                                                        {"max_age", 3600},
                                                        {"credentials", false}}}},
                   json::object{{"name", "key-auth"},
                                {"service", "users"},
                                {"config", json::object{{"key_names", json::array{"apikey"}},
                                                        {"anonymous", nullptr}}}}}},
      {"certificates",
       json::array{json::object{{"cert", tls.cert},
                                {"key", tls.key},
                                {"snis", json::array{"a.example.com", "b.example.com"}}}}},
      {"ca_certificates", json::array{json::object{{"id", "7e1c2b0e-52a3-4c34-9b6f-3f3c5e1d6a01"},
                                                   {"cert", ca.cert}}}},
  };
}

}  // namespace

class JsonNodeTest : public QObject {
  Q_OBJECT
 private slots:
  void readsScalarsAsYamlWould() {
    auto doc = config::JsonDoc::parse(
        "{\"s\":\"x\\u00e9\\n\",\"i\":-12,\"f\":1.50,\"e\":1e3,\"t\":true,\"n\":null,"
        "\"a\":[1,\"2\",[]],\"k\":1,\"k\":2}");
    QVERIFY(doc.has_value());
    auto root = doc->root();
    QVERIFY(root.IsMap());
    QCOMPARE(root.size(), std::size_t{9});  // pairs, the repeated key twice
    QCOMPARE(root["s"].Scalar(), std::string("x\xc3\xa9\n"));
    QCOMPARE(std::string(root["s"].Tag()), std::string("!"));  // quoted
    QCOMPARE(root["i"].Scalar(), std::string("-12"));
    QCOMPARE(std::string(root["i"].Tag()), std::string("?"));  // plain
    QCOMPARE(root["f"].Scalar(), std::string("1.50"));         // as written
    QCOMPARE(root["e"].Scalar(), std::string("1e3"));
    QCOMPARE(root["t"].Scalar(), std::string("true"));
    QVERIFY(root["n"].IsNull());
    QVERIFY(!root["n"].IsScalar());
    QVERIFY(root["a"].IsSequence());
    QCOMPARE(root["a"].size(), std::size_t{3});
    QCOMPARE(root["a"][1].Scalar(), std::string("2"));
    QVERIFY(root["a"][2].IsSequence());
    QVERIFY(!root["a"][3].IsDefined());
    QVERIFY(!root["missing"]);
    QCOMPARE(root["k"].Scalar(), std::string("1"));  // the first of repeated keys
    std::vector<std::string> keys;
    for (const auto& kv : root) keys.push_back(config::keyText(kv.first));
    QCOMPARE(keys, (std::vector<std::string>{"s", "i", "f", "e", "t", "n", "a", "k", "k"}));
    std::vector<std::string> items;
    for (const auto& e : root["a"]) items.push_back(e.IsScalar() ? e.Scalar() : "[]");
    QCOMPARE(items, (std::vector<std::string>{"1", "2", "[]"}));
  }

  void leavesAnythingButStrictJsonToYaml() {
    for (const char* text :
         {"", "  ", "_format_version: '3.0'", "{a: 1}", "{\"a\": 1,}", "{\"a\": 1} trailing",
          "{\"a\": 1} // comment", "\"just a string\"", "{\"a\": \"\\ud800\"}", "{\"a\": 01}"}) {
      QVERIFY2(!config::JsonDoc::parse(text).has_value(), text);
    }
    // Flow-style YAML that is not JSON still parses, through yaml-cpp.
    auto c = config::parseDeclarative(
        "{_format_version: '3.0', services: [{name: s, host: h, routes: [{paths: [/x]}]}]}");
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->routes.size(), std::size_t{1});
  }

  void everyKindParsesAsTheYamlReadingDoes() {
    const std::string text = json::serialize(document());
    auto c = config::parseDeclarative(text);
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->keyauthCredentials.size(), std::size_t{2});
    QCOMPARE(c->snis.size(), std::size_t{2});
    QCOMPARE(c->targets[1].createdAt, 1700000000.123);
    expectSameReading(text);
  }

  void anExportReadsBackTheSameBothWays() {
    auto c = config::parseDeclarative(json::serialize(document()));
    QVERIFY2(c.ok(), c.errorText().c_str());
    const std::string exported = json::serialize(config::exportJson(*c));
    expectSameReading(exported);
    auto back = config::parseDeclarative(exported);
    QVERIFY2(back.ok(), back.errorText().c_str());
    QVERIFY(*back == *c);
  }

  // The one difference, on purpose: Kong's schema refuses a JSON number or boolean where a
  // string is expected; YAML stays lenient (kong.yml files write such strings unquoted).
  void jsonNumbersAndBooleansAreNotStrings() {
    for (const std::string& text :
         {service("\"name\":123,\"host\":\"h\""), service("\"name\":true,\"host\":\"h\""),
          std::string("{\"_format_version\":3.0}")}) {
      auto fromJson = config::parseDeclarative(text);
      QVERIFY2(!fromJson.ok(), text.c_str());
      QCOMPARE(fromJson.errors().front().message, std::string("expected a string"));
      auto fromYaml = config::parseDeclarative("#\n" + text);
      QVERIFY2(fromYaml.ok(), fromYaml.errorText().c_str());
    }
  }

  void edgeCasesGiveTheSameEntitiesOrErrors() {
    const std::string cases[] = {
        // numbers, booleans and strings where the other is expected
        service("\"name\":\"s\",\"host\":\"h\",\"port\":80.0"),
        service("\"name\":\"s\",\"host\":\"h\",\"port\":\"80\""),
        service("\"name\":\"s\",\"host\":\"h\",\"port\":-1"),
        service("\"name\":\"s\",\"host\":\"h\",\"retries\":1e2"),
        service("\"name\":\"s\",\"host\":\"h\",\"retries\":123456789012345678901234"),
        service("\"name\":\"s\",\"host\":\"h\",\"enabled\":\"true\""),
        service("\"name\":\"s\",\"host\":\"h\",\"enabled\":null"),
        service("\"name\":\"s\",\"host\":[\"h\"]"),
        service("\"name\":\"s\\u00e9\\/\\t\",\"host\":\"h\""),
        service("\"name\":\"s\",\"host\":\"h\",\"tags\":[\"a,b\",\"\"]"),
        top("\"services\":{\"name\":\"s\"}"),
        top("\"services\":[1,null,\"x\",[]]"),
        top("\"services\":null"),
        top("\"routes\":[{\"paths\":[\"/a\"],\"service\":{\"nope\":1}}]"),
        top("\"routes\":[{\"paths\":[\"/a\"],\"headers\":{\"x\":\"1\",\"Host\":[\"h\"]}}]"),
        top("\"targets\":[{\"target\":\"a:1\",\"upstream\":{}}]"),
        top("\"upstreams\":[{\"name\":\"u\",\"healthchecks\":{\"threshold\":\"x\"}}]"),
        top("\"upstreams\":[{\"name\":\"u\",\"healthchecks\":{\"threshold\":1e1}}]"),
        top("\"plugins\":[{\"name\":\"cors\",\"config\":{\"max_age\":\"1\"}}]"),
        top("\"plugins\":[{\"name\":\"cors\",\"config\":{\"max_age\":1.0}}]"),
        top("\"consumers\":[{\"username\":\"a\"},{\"username\":\"a\"}]"),
        top("\"consumers\":[{\"username\":\"a\",\"username\":\"b\"}]"),
        top("\"unknown\":[]"),
        "[{\"_format_version\":\"3.0\"}]",
        "{}",
    };
    for (const auto& text : cases) expectSameReading(text);
  }
};

QTEST_APPLESS_MAIN(JsonNodeTest)
#include "json_node_test.moc"
