#include <QtTest>

#include <boost/json/serialize.hpp>

#include "config/declarative.h"
#include "config/export.h"
#include "test_certificates.h"

using namespace archway;

class DeclarativeTest : public QObject {
  Q_OBJECT
 private slots:
  void parsesServicesWithUrlShorthandAndNestedRoutes() {
    auto c = config::parseDeclarative(
        "\n"
        "_format_version: \"3.0\"\n"
        "services:\n"
        "  - name: users\n"
        "    url: https://users.internal:8443/v1\n"
        "    retries: 2\n"
        "    routes:\n"
        "      - name: users-route\n"
        "        paths: [\"/users\", \"/people\"]\n"
        "        methods: [GET, POST]\n"
        "        strip_path: false\n"
        "");
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->services.size(), std::size_t{1});
    const auto& s = c->services[0];
    QCOMPARE(s.protocol, std::string("https"));
    QCOMPARE(s.host, std::string("users.internal"));
    QCOMPARE(s.port, std::uint16_t{8443});
    QCOMPARE(s.path.value_or(""), std::string("/v1"));
    QCOMPARE(s.retries, 2);
    QCOMPARE(s.connectTimeout, 60000);
    QCOMPARE(c->routes.size(), std::size_t{1});
    QCOMPARE(c->routes[0].serviceId.value_or(""), s.id);
    QCOMPARE(c->routes[0].stripPath, false);
    QCOMPARE(c->routes[0].protocols, (std::vector<std::string>{"http", "https"}));
  }

  void port443ImpliesHttpsAndDefaultsFollowScheme() {
    auto c = config::parseDeclarative(
        "{\"_format_version\":\"3.0\",\"services\":[\n"
        "      "
        "{\"name\":\"a\",\"url\":\"http://a.example:443\"},{\"name\":\"b\",\"url\":\"https://"
        "b.example\"},\n"
        "      {\"name\":\"c\",\"url\":\"http://c.example\"}]}");
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->services[0].protocol, std::string("https"));
    QCOMPARE(c->services[1].port, std::uint16_t{443});
    QCOMPARE(c->services[2].port, std::uint16_t{80});
  }

  void idsAreStableAcrossLoads() {
    const char* text =
        "_format_version: '3.0'\nservices:\n- name: s\n  host: h\n  routes:\n  - paths: [/x]\n";
    auto a = config::parseDeclarative(text);
    auto b = config::parseDeclarative(text);
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->services[0].id, b->services[0].id);
    QCOMPARE(a->routes[0].id, b->routes[0].id);
    QCOMPARE(a->services[0].id.size(), std::size_t{36});
  }

  void topLevelRoutesReferToServicesByName() {
    auto c = config::parseDeclarative(
        "\n"
        "_format_version: \"3.0\"\n"
        "services: [{name: s, host: example.com}]\n"
        "routes: [{name: r, paths: [/r], service: s}, {name: r2, hosts: [a.com], service: {name: "
        "s}}]\n"
        "");
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->routes[0].serviceId.value(), c->services[0].id);
    QCOMPARE(c->routes[1].serviceId.value(), c->services[0].id);
  }

  void reportsEveryErrorWithItsFieldPath_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("missing version")
        << "services: []" << QStringList{"_format_version: required field missing"};
    QTest::newRow("bad version")
        << "_format_version: '9.9'"
        << QStringList{"_format_version: unsupported value '9.9', expected one of: 1.1, 2.1, 3.0"};
    QTest::newRow("several at once")
        << "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a\n  port: 99999\n- name: "
           "b\n"
           "  host: b\n  routes:\n  - paths: [nope]\n  - paths: [/ok]\n    methods: [get]\n"
        << QStringList{"services[0].port: value should be between 0 and 65535",
                       "services[1].routes[0].paths[0]: should start with: / (fixed path) or ~/ "
                       "(regex path)",
                       "services[1].routes[1].methods[0]: invalid value: get"};
    QTest::newRow("unknown field")
        << "_format_version: '3.0'\nservices: [{name: a, host: a, colour: red}]"
        << QStringList{"services[0].colour: unknown field"};
    QTest::newRow("route needs a matching field")
        << "_format_version: '3.0'\nroutes: [{name: r}]"
        << QStringList{
               "routes[0]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' "
               "is 'http'"};
    QTest::newRow("unknown service")
        << "_format_version: '3.0'\nroutes: [{paths: [/a], service: ghost}]"
        << QStringList{"routes[0].service: could not find service 'ghost'"};
    QTest::newRow("duplicate names")
        << "_format_version: '3.0'\nservices: [{name: a, host: a}, {name: a, host: b}]"
        << QStringList{"services[1].name: UNIQUE violation detected on '{name=\"a\"}'"};
    QTest::newRow("bad wildcard host")
        << "_format_version: '3.0'\nroutes: [{hosts: ['a.*.com']}]"
        << QStringList{"routes[0].hosts[0]: invalid hostname: a.*.com"};
    QTest::newRow("url and host")
        << "_format_version: '3.0'\nservices: [{url: 'http://a', host: b}]"
        << QStringList{"services[0].url: url and host are mutually exclusive"};
    QTest::newRow("not a map")
        << "- a\n- b"
        << QStringList{"expected a map at the top level of the declarative configuration"};
  }
  void reportsEveryErrorWithItsFieldPath() {
    QFETCH(QString, yaml);
    QFETCH(QStringList, expected);
    auto c = config::parseDeclarative(yaml.toStdString());
    QVERIFY(!c.ok());
    QStringList got;
    for (const auto& e : c.errors()) got << QString::fromStdString(e.text());
    QCOMPARE(got, expected);
  }

  void parsesUpstreamsWithKongDefaults() {
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\n"
        "upstreams:\n"
        "- name: backend\n"
        "  targets: [{target: 10.0.0.1}, {target: 'b.internal:9000', weight: 0}]\n"
        "- name: hashed\n"
        "  hash_on: header\n"
        "  hash_on_header: x-user\n"
        "  healthchecks: {active: {type: tcp, healthy: {interval: 5}}, passive: {unhealthy: {http_failures: 3}}}\n"
        "targets: [{target: '[::1]:81', upstream: hashed}]\n");
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->upstreams.size(), std::size_t{2});
    const auto& u = c->upstreams[0];
    QCOMPARE(u.algorithm, std::string("round-robin"));
    QCOMPARE(u.slotCount, 10000);
    QCOMPARE(u.healthchecks.active.healthyHttpStatuses, (std::vector<int>{200, 302}));
    QCOMPARE(u.healthchecks.passive.unhealthyHttpStatuses, (std::vector<int>{429, 500, 503}));
    QCOMPARE(c->targets.size(), std::size_t{3});
    QCOMPARE(c->targets[0].target, std::string("10.0.0.1:8000"));  // Kong's default port
    QCOMPARE(c->targets[0].weight, 100);
    QCOMPARE(c->targets[1].weight, 0);
    QCOMPARE(c->targets[0].upstreamId, u.id);
    const auto& h = c->upstreams[1];
    QCOMPARE(h.algorithm, std::string("consistent-hashing"));  // hash_on implies it
    QCOMPARE(h.healthchecks.active.type, std::string("tcp"));
    QCOMPARE(h.healthchecks.active.healthyInterval, 5);
    QCOMPARE(h.healthchecks.passive.unhealthyHttpFailures, 3);
    QCOMPARE(c->targets[2].upstreamId, h.id);
    QCOMPARE(c->targets[2].target, std::string("[::1]:81"));
  }

  void reportsUpstreamErrorsWithPaths_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("expected");
    QTest::newRow("ip as name") << "upstreams: [{name: 10.0.0.1}]"
                                << "upstreams[0].name: Invalid name ('10.0.0.1'); must be a valid hostname";
    QTest::newRow("header without name") << "upstreams: [{name: u, hash_on: header}]"
                                         << "upstreams[0].hash_on_header: required field missing";
    QTest::newRow("fallback without hash") << "upstreams: [{name: u, hash_fallback: ip}]"
                                           << "upstreams[0].hash_fallback: must be 'none' when 'hash_on' is 'none'";
    QTest::newRow("slots range") << "upstreams: [{name: u, slots: 5}]"
                                 << "upstreams[0].slots: value should be between 10 and 65536";
    QTest::newRow("bad target") << "upstreams: [{name: u, targets: [{target: 'a:b:c'}]}]"
                                << "upstreams[0].targets[0].target: Invalid target ('a:b:c'); not a valid hostname or ip address";
    QTest::newRow("weight range") << "upstreams: [{name: u, targets: [{target: a, weight: 70000}]}]"
                                  << "upstreams[0].targets[0].weight: value should be between 0 and 65535";
    QTest::newRow("unknown healthcheck field")
        << "upstreams: [{name: u, healthchecks: {active: {healthy: {intervall: 1}}}}]"
        << "upstreams[0].healthchecks.active.healthy.intervall: unknown field";
    QTest::newRow("unknown upstream") << "targets: [{target: a, upstream: ghost}]"
                                      << "targets[0].upstream: could not find upstream 'ghost'";
    QTest::newRow("duplicate target") << "upstreams: [{name: u, targets: [{target: a}, {target: 'a:8000'}]}]"
                                      << "targets[1].target: UNIQUE violation detected on '{target=\"a:8000\"}'";
  }
  void reportsUpstreamErrorsWithPaths() {
    QFETCH(QString, yaml);
    QFETCH(QString, expected);
    auto c = config::parseDeclarative("_format_version: '3.0'\n" + yaml.toStdString());
    QVERIFY(!c.ok());
    QCOMPARE(QString::fromStdString(c.errors().front().text()), expected);
  }

  void malformedYamlNamesTheLine() {
    auto c = config::parseDeclarative("_format_version: '3.0'\nservices: [\n  {name: a\n");
    QVERIFY(!c.ok());
    QVERIFY(c.errorText().find("line") != std::string::npos);
  }

  void missingFileIsAnErrorOnConfig() {
    auto c = config::loadDeclarativeFile("/nonexistent/kong.yml");
    QVERIFY(!c.ok());
    QCOMPARE(c.errors().front().path, std::string("config"));
  }

  void demoConfigIsValid() {
    auto c = config::loadDeclarativeFile(ARCHWAY_SOURCE_DIR "/resources/demo/kong.yml");
    QVERIFY2(c.ok(), c.errorText().c_str());
    QVERIFY(c->routes.size() >= 2);
  }

  // certificates (with nested snis, names or records), top-level snis, ca_certificates and the
  // service TLS fields: parsed, exported and parsed back to the same entities.
  void tlsEntitiesRoundTripThroughExport() {
    const auto pair = testing::makeCertificate();
    const auto ca = testing::makeCertificate({.ca = true});
    const std::string certId = "2b8f0f39-7f5e-4a6e-9d55-0d7e9c6f3a01";
    const std::string caId = "5c1d8f0a-1b2c-4d3e-8f4a-5b6c7d8e9f00";
    namespace json = boost::json;
    json::object doc{
        {"_format_version", "3.0"},
        {"certificates",
         json::array{json::object{{"id", certId},
                                  {"cert", pair.cert},
                                  {"key", pair.key},
                                  {"tags", {"edge"}},
                                  {"snis", json::array{"a.example.com",
                                                       json::object{{"name", "*.b.example.com"},
                                                                    {"tags", {"w"}}}}}}}},
        {"snis", json::array{json::object{{"name", "c.example.com"}, {"certificate", certId}}}},
        {"ca_certificates", json::array{json::object{{"id", caId}, {"cert", ca.cert}}}},
        {"services", json::array{json::object{{"name", "mtls"},
                                              {"url", "https://backend.internal"},
                                              {"client_certificate", certId},
                                              {"tls_verify", true},
                                              {"tls_verify_depth", 3},
                                              {"ca_certificates", {caId}}}}}};
    auto c = config::parseDeclarative(json::serialize(doc));
    QVERIFY2(c.ok(), c.errorText().c_str());
    QCOMPARE(c->certificates.size(), std::size_t{1});
    QCOMPARE(c->snis.size(), std::size_t{3});
    for (const auto& sni : c->snis) QCOMPARE(sni.certificateId, certId);
    QCOMPARE(c->snis[1].tags, std::vector<std::string>{"w"});
    QCOMPARE(c->caCertificates.size(), std::size_t{1});
    QCOMPARE(c->caCertificates[0].certDigest.size(), std::size_t{64});
    QCOMPARE(c->services[0].clientCertificate.value_or(""), certId);
    QCOMPARE(c->services[0].tlsVerify.value_or(false), true);
    QCOMPARE(c->services[0].tlsVerifyDepth.value_or(0), 3);
    QCOMPARE(c->services[0].caCertificates, std::vector<std::string>{caId});

    const std::string yaml = config::exportYaml(*c);
    auto back = config::parseDeclarative(yaml);
    QVERIFY2(back.ok(), back.errorText().c_str());
    QCOMPARE(back->certificates, c->certificates);
    QCOMPARE(back->caCertificates, c->caCertificates);
    QCOMPARE(back->services, c->services);
    QCOMPARE(back->snis.size(), c->snis.size());
    for (const auto& sni : c->snis) {
      auto it = std::find(back->snis.begin(), back->snis.end(), sni);
      QVERIFY2(it != back->snis.end(), sni.name.c_str());
    }
    QCOMPARE(config::configHash(*back), config::configHash(*c));
    core::Config without = *c;
    without.caCertificates.clear();
    without.services[0].caCertificates.clear();
    QVERIFY(config::configHash(without) != config::configHash(*c));
  }

  void reportsTlsEntityErrorsWithPaths() {
    const auto pair = testing::makeCertificate();
    const auto other = testing::makeCertificate({.ec = true});
    namespace json = boost::json;
    const std::string missingCert = "7d1e2a5c-4a6f-4bb8-9c57-0d2f1b0e1a11";
    json::object doc{
        {"_format_version", "3.0"},
        {"certificates",
         json::array{json::object{{"cert", "junk"}, {"key", pair.key}},
                     json::object{{"cert", pair.cert}, {"key", other.key}},
                     json::object{{"cert", pair.cert}, {"key", pair.key},
                                  {"snis", {"dup.example.com", "a.*.com"}}}}},
        {"snis", json::array{json::object{{"name", "dup.example.com"},
                                          {"certificate", missingCert}},
                             json::object{{"name", "nocert.example.com"}}}},
        {"ca_certificates", json::array{json::object{{"cert", pair.cert}}}},
        {"services", json::array{json::object{{"name", "s"},
                                              {"url", "http://h"},
                                              {"tls_verify_depth", 2}}}}};
    auto c = config::parseDeclarative(json::serialize(doc));
    QVERIFY(!c.ok());
    const std::string text = c.errorText();
    for (const char* expected : {
             "certificates[0].cert: invalid certificate: ",
             "certificates[1]: certificate does not match key",
             "certificates[2].snis[1]: wildcard must be leftmost or rightmost character",
             "snis[1].certificate: required field missing",
             "ca_certificates[0]: certificate does not appear to be a CA",
             "services[0].tls_verify_depth: value must be null",
         }) {
      QVERIFY2(text.find(expected) != std::string::npos, (text + "\n---missing: " + expected).c_str());
    }
    // Cross-entity rules once every entity is fine on its own.
    json::object dup{
        {"_format_version", "3.0"},
        {"certificates", json::array{json::object{{"cert", pair.cert},
                                                  {"key", pair.key},
                                                  {"snis", {"dup.example.com"}}}}},
        {"snis", json::array{json::object{{"name", "dup.example.com"},
                                          {"certificate", missingCert}}}}};
    auto d = config::parseDeclarative(json::serialize(dup));
    QVERIFY(!d.ok());
    QVERIFY2(d.errorText().find("snis[1].name: UNIQUE violation detected on "
                                "'{name=\"dup.example.com\"}'") != std::string::npos,
             d.errorText().c_str());
    QVERIFY2(d.errorText().find("snis[1].certificate: could not find certificate") !=
                 std::string::npos,
             d.errorText().c_str());
  }
};

QTEST_GUILESS_MAIN(DeclarativeTest)
#include "declarative_test.moc"
