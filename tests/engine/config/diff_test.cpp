// decK-style diff between a live config and a kong.yml: matching, fields, order, Admin API calls.
#include <QtTest>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "config/declarative.h"
#include "config/diff.h"
#include "test_certificates.h"

using namespace archway;
namespace json = boost::json;

namespace {

constexpr const char* kIdA = "11111111-1111-4111-8111-111111111111";
constexpr const char* kIdB = "22222222-2222-4222-8222-222222222222";

core::Config liveOf(const std::string& yaml) {
  auto c = config::parseDeclarative("_format_version: '3.0'\n" + yaml);
  if (!c) qFatal("live: %s", c.errorText().c_str());
  return *c;
}

config::DesiredConfig want(const std::string& yaml) {
  auto c = config::parseDesired("_format_version: '3.0'\n" + yaml);
  if (!c) qFatal("desired: %s", c.errorText().c_str());
  return *c;
}

std::vector<std::string> lines(const config::ConfigDiff& d) {
  std::vector<std::string> out;
  for (const auto& c : d.changes) out.push_back(config::describe(c));
  return out;
}

QString joined(const config::ConfigDiff& d) {
  QString s;
  for (const auto& l : lines(d)) s += QString::fromStdString(l) + "\n";
  return s;
}

json::object bodyOf(const config::AdminCall& call) { return json::parse(call.body).as_object(); }

const char* const kFull =
    "consumers:\n"
    "- username: alice\n"
    "  keyauth_credentials: [{key: alice-key}]\n"
    "  basicauth_credentials: [{username: alice, password: s3cret}]\n"
    "  acls: [{group: admins}]\n"
    "services:\n"
    "- name: users\n"
    "  url: http://127.0.0.1:9/v1\n"
    "  routes:\n"
    "  - name: bar\n"
    "    paths: [/a]\n"
    "    plugins: [{name: key-auth}]\n"
    "upstreams:\n"
    "- name: up.internal\n"
    "  targets: [{target: '10.0.0.1:80', weight: 50}]\n"
    "plugins:\n"
    "- name: rate-limiting\n"
    "  service: users\n"
    "  config: {minute: 10}\n";

}  // namespace

class DiffTest : public QObject {
  Q_OBJECT
 private slots:
  void equalConfigsHaveNoDifference() {
    auto d = config::diffConfigs(liveOf(kFull), want(kFull));
    QVERIFY2(d.empty(), qPrintable(joined(d)));
  }

  // Live entities carry their own random ids and timestamps (written through the Admin API);
  // a file without ids matches them by name and ignores what the server filled in.
  void serverFilledFieldsAndGeneratedIdsAreIgnored() {
    auto live = liveOf(
        std::string("consumers:\n- {username: alice, id: ") + kIdA + ", created_at: 5}\n" +
        "services:\n- name: users\n  id: " + kIdB +
        "\n  url: http://127.0.0.1:9/v1\n  created_at: 10\n  updated_at: 20\n");
    auto d = config::diffConfigs(live, want("consumers:\n- username: alice\nservices:\n- name: "
                                            "users\n  url: http://127.0.0.1:9/v1\n"));
    QVERIFY2(d.empty(), qPrintable(joined(d)));
  }

  // Certificates before their snis; a key is a secret and never printed.
  void certificatesAndSnisAreDiffedWithTheirOwnCalls() {
    const auto pair = testing::makeCertificate();
    const auto other = testing::makeCertificate();
    const std::string certId = "2b8f0f39-7f5e-4a6e-9d55-0d7e9c6f3a01";
    auto doc = [&](const testing::CertificatePair& p, json::array snis) {
      json::object d{{"certificates", json::array{json::object{{"id", certId},
                                                                {"cert", p.cert},
                                                                {"key", p.key},
                                                                {"snis", std::move(snis)}}}}};
      std::string y = json::serialize(d);
      return y.substr(1, y.size() - 2);  // the members, as flow-style YAML after the header
    };
    auto asYaml = [](const std::string& members) { return "{" + members + "}"; };
    const std::string one = doc(pair, json::array{"a.example.com"});
    auto d = config::diffConfigs(core::Config{},
                                 config::parseDesired(asYaml("\"_format_version\": \"3.0\", " + one)).value());
    const std::vector<std::string> expected = {"creating certificate " + certId,
                                               "creating sni a.example.com"};
    QCOMPARE(lines(d), expected);
    QCOMPARE(d.changes[0].calls.front().path, std::string("/certificates"));
    QCOMPARE(d.changes[1].calls.front().path, std::string("/snis"));
    QCOMPARE(std::string(bodyOf(d.changes[1].calls.front()).at("certificate").at("id").as_string()),
             certId);

    const auto live = config::parseDeclarative(asYaml("\"_format_version\": \"3.0\", " + one)).value();
    const std::string two = doc(other, json::array{"a.example.com", "b.example.com"});
    d = config::diffConfigs(live, config::parseDesired(asYaml("\"_format_version\": \"3.0\", " + two)).value());
    const QString text = joined(d);
    QVERIFY2(text.contains("updating certificate " + QString::fromStdString(certId)), qPrintable(text));
    QVERIFY2(text.contains("creating sni b.example.com"), qPrintable(text));
    QVERIFY2(!text.contains("PRIVATE KEY"), qPrintable(text));
    QCOMPARE(d.count(config::ChangeKind::remove), std::size_t(0));
  }

  void createsEverythingParentsFirst() {
    auto d = config::diffConfigs(core::Config{}, want(kFull));
    const std::vector<std::string> expected = {
        "creating consumer alice",
        "creating service users",
        "creating upstream up.internal",
        // key-auth shows its id, never the key
        "creating key-auth " + want(kFull).config.keyauthCredentials.front().id +
            " (consumer alice)",
        "creating basic-auth alice (consumer alice)",
        "creating acl admins (consumer alice)",
        "creating route bar",
        "creating target 10.0.0.1:80 (upstream up.internal)",
        "creating plugin key-auth (route bar)",
        "creating plugin rate-limiting (service users)",
    };
    QCOMPARE(lines(d), expected);
    QCOMPARE(d.count(config::ChangeKind::create), expected.size());
    const auto desired = want(kFull).config;
    const auto& svc = d.changes[1].calls.front();
    QCOMPARE(svc.method, std::string("POST"));
    QCOMPARE(svc.path, std::string("/services"));
    QCOMPARE(std::string(bodyOf(svc).at("id").as_string()), desired.services.front().id);
    const auto& route = d.changes[6].calls.front();
    QCOMPARE(route.path, std::string("/routes"));
    QCOMPARE(std::string(bodyOf(route).at("service").at("id").as_string()),
             desired.services.front().id);
    QCOMPARE(d.changes[7].calls.front().path,
             "/upstreams/" + desired.upstreams.front().id + "/targets");
    QCOMPARE(d.changes[3].calls.front().path,
             "/consumers/" + desired.consumers.front().id + "/key-auth");
    QVERIFY(!bodyOf(d.changes[3].calls.front()).contains("consumer"));
    // The plain password goes to the server, which hashes it with the consumer's id.
    QCOMPARE(std::string(bodyOf(d.changes[4].calls.front()).at("password").as_string()),
             std::string("s3cret"));
  }

  void deletesChildrenBeforeParents() {
    auto d = config::diffConfigs(liveOf(kFull), want(""));
    const auto live = liveOf(kFull);
    const std::vector<std::string> expected = {
        "deleting plugin key-auth (route bar)",
        "deleting plugin rate-limiting (service users)",
        "deleting route bar",
        "deleting target 10.0.0.1:80 (upstream up.internal)",
        "deleting service users",
        "deleting upstream up.internal",
        "deleting key-auth " + live.keyauthCredentials.front().id + " (consumer alice)",
        "deleting basic-auth alice (consumer alice)",
        "deleting acl admins (consumer alice)",
        "deleting consumer alice",
    };
    QCOMPARE(lines(d), expected);
    QCOMPARE(d.changes[2].calls.front().method, std::string("DELETE"));
    QCOMPARE(d.changes[2].calls.front().path, "/routes/" + live.routes.front().id);
    QVERIFY(d.changes[2].calls.front().body.empty());
  }

  void updateListsOnlyTheChangedFields() {
    const std::string before = "services:\n- name: s\n  url: http://127.0.0.1:9\n  routes:\n"
                               "  - name: bar\n    paths: [/a]\n";
    std::string after = before;
    after.replace(after.find("[/a]"), 4, "[/b]\n    strip_path: false");
    auto live = liveOf(before);
    auto d = config::diffConfigs(live, want(after));
    QCOMPARE(lines(d), std::vector<std::string>{
                           "updating route bar  {\"paths\": [\"/a\"] -> [\"/b\"], \"strip_path\": "
                           "true -> false}"});
    QCOMPARE(d.count(config::ChangeKind::update), std::size_t(1));
    const auto& call = d.changes.front().calls.front();
    QCOMPARE(call.method, std::string("PUT"));
    QCOMPARE(call.path, "/routes/" + live.routes.front().id);
    auto body = bodyOf(call);
    QCOMPARE(body.at("paths").as_array().front().as_string(), "/b");
    QCOMPARE(std::string(body.at("service").at("id").as_string()), live.services.front().id);
  }

  // A service created through the Admin API has a random id; the file's service of the same
  // name is that service, and its routes are written against that id.
  void matchesByNameAndWritesAgainstTheLiveId() {
    auto live = liveOf(std::string("services:\n- {name: foo, url: 'http://127.0.0.1:9', id: ") +
                       kIdA + "}\n");
    auto d = config::diffConfigs(
        live, want("services:\n- name: foo\n  url: http://127.0.0.1:9\n  retries: 2\n  routes:\n"
                   "  - {name: r, paths: [/r]}\n"));
    QCOMPARE(lines(d), (std::vector<std::string>{"updating service foo  {\"retries\": 5 -> 2}",
                                                 "creating route r"}));
    QCOMPARE(d.changes[0].calls.front().path, std::string("/services/") + kIdA);
    QCOMPARE(std::string(bodyOf(d.changes[1].calls.front()).at("service").at("id").as_string()),
             std::string(kIdA));
  }

  // An id written in the file is the entity's identity: a live entity of the same name but
  // another id is deleted first (its name would clash), with what depends on it.
  void declaredIdReplacesTheSameNamedEntity() {
    auto live = liveOf(std::string("services:\n- name: foo\n  id: ") + kIdA +
                       "\n  url: http://127.0.0.1:9\n  routes: [{name: r, paths: [/r]}]\n");
    auto d = config::diffConfigs(live, want(std::string("services:\n- name: foo\n  id: ") + kIdB +
                                            "\n  url: http://127.0.0.1:9\n  routes: [{name: r, "
                                            "paths: [/r]}]\n"));
    QCOMPARE(lines(d), (std::vector<std::string>{"deleting route r", "deleting service foo",
                                                 "creating service foo", "creating route r"}));
    QCOMPARE(d.changes[1].calls.front().path, std::string("/services/") + kIdA);
    QCOMPARE(std::string(bodyOf(d.changes[2].calls.front()).at("id").as_string()),
             std::string(kIdB));
    QCOMPARE(std::string(bodyOf(d.changes[3].calls.front()).at("service").at("id").as_string()),
             std::string(kIdB));
  }

  void declaredIdMatchesARenamedEntity() {
    auto live = liveOf(std::string("upstreams:\n- {name: old.internal, id: ") + kIdA + "}\n");
    auto d = config::diffConfigs(
        live, want(std::string("upstreams:\n- {name: new.internal, id: ") + kIdA + "}\n"));
    QCOMPARE(lines(d), std::vector<std::string>{
                           "updating upstream new.internal  {\"name\": \"old.internal\" -> "
                           "\"new.internal\"}"});
    QCOMPARE(d.changes.front().calls.front().path, std::string("/upstreams/") + kIdA);
  }

  void targetsMatchByUpstreamAndTarget() {
    const std::string yaml = "upstreams:\n- name: u\n  targets:\n  - {target: 'a:80', weight: ";
    auto live = liveOf(yaml + "100}\n  - {target: 'b:80'}\n");
    auto d = config::diffConfigs(live, want(yaml + "5}\n  - {target: 'c:80'}\n"));
    QCOMPARE(lines(d), (std::vector<std::string>{
                           "updating target a:80 (upstream u)  {\"weight\": 100 -> 5}",
                           "creating target c:80 (upstream u)", "deleting target b:80 (upstream u)"}));
    // The Admin API has no PUT for targets: an update is DELETE then POST with the same id.
    const auto& calls = d.changes.front().calls;
    QCOMPARE(calls.size(), std::size_t(2));
    QCOMPARE(calls[0].method, std::string("DELETE"));
    QCOMPARE(calls[1].method, std::string("POST"));
    QCOMPARE(calls[1].path, "/upstreams/" + live.upstreams.front().id + "/targets");
    QCOMPARE(std::string(bodyOf(calls[1]).at("id").as_string()), live.targets.front().id);
    QCOMPARE(bodyOf(calls[1]).at("weight").as_int64(), 5);
  }

  void pluginsMatchByNameAndScope() {
    const std::string services = "services:\n- name: s\n  url: http://127.0.0.1:9\n  routes:\n"
                                 "  - {name: a, paths: [/a]}\n  - {name: b, paths: [/b]}\n";
    auto live = liveOf(services +
                       "plugins:\n- {name: rate-limiting, route: a, config: {minute: 10}}\n"
                       "- {name: cors, route: a}\n");
    auto d = config::diffConfigs(
        live, want(services + "plugins:\n- {name: rate-limiting, route: a, config: {minute: 20}}\n"
                              "- {name: cors, route: b}\n"));
    QCOMPARE(lines(d), (std::vector<std::string>{
                           "updating plugin rate-limiting (route a)  {\"config.minute\": 10 -> 20}",
                           "creating plugin cors (route b)", "deleting plugin cors (route a)"}));
    auto body = bodyOf(d.changes[1].calls.front());
    QCOMPARE(std::string(body.at("route").at("id").as_string()), live.routes[1].id);
  }

  void consumersMatchByUsernameThenCustomId() {
    auto live = liveOf(std::string("consumers:\n- {username: alice, id: ") + kIdA +
                       "}\n- {custom_id: c-7, id: " + kIdB + "}\n");
    auto d = config::diffConfigs(
        live, want("consumers:\n- {username: alice, custom_id: a-1}\n- {custom_id: c-7}\n"));
    QCOMPARE(lines(d), std::vector<std::string>{
                           "updating consumer alice  {\"custom_id\": null -> \"a-1\"}"});
    QCOMPARE(d.changes.front().calls.front().path, std::string("/consumers/") + kIdA);
  }

  // Basic-auth passwords are stored hashed with the consumer's id: the file's plain password
  // is compared against the live consumer's hash, and changes never print a secret.
  void credentialsMatchByKeyAndHideSecrets() {
    const std::string consumer = std::string("consumers:\n- username: alice\n  id: ") + kIdA + "\n";
    auto live = liveOf(consumer +
                       "  basicauth_credentials: [{username: al, password: s3cret}]\n"
                       "  jwt_secrets: [{key: iss-1, secret: one}]\n"
                       "  keyauth_credentials: [{key: k1}]\n"
                       "- username: bob\n");
    // Same consumer by name, but the file does not give its id.
    const std::string same = "consumers:\n- username: alice\n";
    auto unchanged = config::diffConfigs(
        live, want(same + "  basicauth_credentials: [{username: al, password: s3cret}]\n"
                          "  jwt_secrets: [{key: iss-1, secret: one}]\n"
                          "  keyauth_credentials: [{key: k1}]\n- username: bob\n"));
    QVERIFY2(unchanged.empty(), qPrintable(joined(unchanged)));

    auto d = config::diffConfigs(
        live, want(same + "  basicauth_credentials: [{username: al, password: changed}]\n"
                          "  jwt_secrets: [{key: iss-1, secret: two}]\n"
                          "- username: bob\n  keyauth_credentials: [{key: k1}]\n"));
    QCOMPARE(lines(d),
             (std::vector<std::string>{
                 "updating key-auth " + live.keyauthCredentials.front().id +
                     " (consumer bob)  {\"consumer\": \"alice\" -> \"bob\"}",
                 "updating basic-auth al (consumer alice)  {\"password\": \"(hidden)\" -> "
                 "\"(hidden)\"}",
                 "updating jwt iss-1 (consumer alice)  {\"secret\": \"(hidden)\" -> \"(hidden)\"}"}));
    // The key moves to bob: deleted under alice, created under bob with the same id.
    const auto& move = d.changes[0].calls;
    QCOMPARE(move.size(), std::size_t(2));
    QCOMPARE(move[0].path,
             std::string("/consumers/") + kIdA + "/key-auth/" + live.keyauthCredentials.front().id);
    QCOMPARE(move[1].path, "/consumers/" + live.consumers[1].id + "/key-auth");
    QCOMPARE(d.changes[1].calls.front().method, std::string("PUT"));
    QCOMPARE(std::string(bodyOf(d.changes[1].calls.front()).at("password").as_string()),
             std::string("changed"));
  }

  void summaryCountsEachKind() {
    QCOMPARE(config::summary(1, 2, 3), std::string("Summary: Created: 1 Updated: 2 Deleted: 3"));
    auto d = config::diffConfigs(liveOf("services:\n- {name: a, url: 'http://x'}\n"),
                                 want("services:\n- {name: b, url: 'http://x'}\n"));
    QCOMPARE(d.count(config::ChangeKind::create), std::size_t(1));
    QCOMPARE(d.count(config::ChangeKind::update), std::size_t(0));
    QCOMPARE(d.count(config::ChangeKind::remove), std::size_t(1));
  }

  void invalidFileReportsFieldPaths() {
    auto r = config::parseDesired("_format_version: '3.0'\nservices:\n- name: a\n  url: http://a\n"
                                  "  routes:\n  - paths: [x]\n");
    QVERIFY(!r);
    QVERIFY2(r.errorText().find("services[0].routes[0].paths[0]") != std::string::npos,
             r.errorText().c_str());
    auto missing = config::loadDesiredFile("/nonexistent/kong.yml");
    QVERIFY(!missing);
    QCOMPARE(missing.errors().front().path, std::string("config"));
  }
};

QTEST_GUILESS_MAIN(DiffTest)
#include "diff_test.moc"
