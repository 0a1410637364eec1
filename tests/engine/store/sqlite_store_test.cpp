#include <sqlite3.h>

#include <QtTest>

#include <boost/json/serialize.hpp>

#include "../config/test_certificates.h"
#include "config/declarative.h"
#include "runtime/config_source.h"
#include "apply_steps.h"
#include "store/store.h"

using namespace archway;

namespace {

// certificates with snis (nested and top level), a CA and a service using both, as a JSON
// kong.yml (PEM text is multi-line).
inline std::string tlsConfigText() {
  namespace json = boost::json;
  const auto pair = testing::makeCertificate();
  const auto ca = testing::makeCertificate({.ca = true});
  const std::string certId = "2b8f0f39-7f5e-4a6e-9d55-0d7e9c6f3a01";
  const std::string caId = "5c1d8f0a-1b2c-4d3e-8f4a-5b6c7d8e9f00";
  json::object doc{
      {"_format_version", "3.0"},
      {"certificates", json::array{json::object{{"id", certId},
                                                {"cert", pair.cert},
                                                {"key", pair.key},
                                                {"tags", {"edge"}},
                                                {"snis", {"a.example.com", "*.b.example.com"}}}}},
      {"snis", json::array{json::object{{"name", "c.example.com"}, {"certificate", certId}}}},
      {"ca_certificates", json::array{json::object{{"id", caId}, {"cert", ca.cert}}}},
      {"services", json::array{json::object{{"name", "mtls"},
                                            {"url", "https://backend.internal"},
                                            {"client_certificate", certId},
                                            {"tls_verify", false},
                                            {"ca_certificates", {caId}}}}}};
  return json::serialize(doc);
}

// Counts the rows written (inserted or updated) in an SQLite file, with triggers.
class WriteCounter {
 public:
  explicit WriteCounter(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    sqlite3_busy_timeout(db_, 5000);
    std::string sql = "CREATE TABLE IF NOT EXISTS written (n INTEGER NOT NULL);"
                      "INSERT INTO written VALUES (0);";
    for (const char* t : {"services", "routes", "upstreams", "targets", "entities"}) {
      for (const char* op : {"INSERT", "UPDATE"}) {
        sql += std::string("CREATE TRIGGER count_") + t + "_" + op + " AFTER " + op + " ON " + t +
               " BEGIN UPDATE written SET n = n + 1; END;";
      }
    }
    sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  ~WriteCounter() { sqlite3_close(db_); }
  // Rows written since the last call.
  int take() {
    int n = 0;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "SELECT n FROM written", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_exec(db_, "UPDATE written SET n = 0", nullptr, nullptr, nullptr);
    return n;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

class SqliteStoreTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;

 private slots:
  void roundTripsAConfig() {
    auto path = dir_.filePath("roundtrip.db").toStdString();
    auto s = store::openSqlite(path);
    QVERIFY2(s.ok(), s.errorText().c_str());
    QVERIFY((*s)->empty());
    QCOMPARE((*s)->schemaVersion(), 4);
    auto cfg = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a:81/x\n  read_timeout: 5\n"
        "  routes: [{name: r, paths: [/r], methods: [GET], hosts: ['*.a.com'], headers: {x-v: "
        "[1]}}]\n"
        "routes: [{name: orphan, paths: [/o]}]\n"
        "upstreams:\n- name: backend\n  algorithm: least-connections\n"
        "  healthchecks: {active: {healthy: {interval: 5}}, passive: {unhealthy: {http_failures: "
        "3}}}\n"
        "  targets: [{target: '10.0.0.1:80', weight: 5}, {target: 'b.internal'}]\n");
    QVERIFY(cfg.ok());
    QVERIFY((*s)->replace(*cfg).ok());
    QVERIFY(!(*s)->empty());
    auto loaded = (*s)->load();
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    QCOMPARE(loaded->services, cfg->services);
    QCOMPARE(loaded->routes, cfg->routes);
    QCOMPARE(loaded->upstreams, cfg->upstreams);
    QCOMPARE(loaded->targets, cfg->targets);
  }

  void roundTripsConsumersCredentialsAndPlugins() {
    auto path = dir_.filePath("plugins.db").toStdString();
    auto s = store::openSqlite(path);
    QVERIFY2(s.ok(), s.errorText().c_str());
    auto cfg = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a:81\n"
        "  routes: [{name: r, paths: [/r], plugins: [{name: key-auth}]}]\n"
        "  plugins: [{name: rate-limiting, config: {minute: 5}}]\n"
        "consumers:\n- username: alice\n  custom_id: A\n"
        "  keyauth_credentials: [{key: k1, ttl: 60}]\n"
        "  basicauth_credentials: [{username: alice, password: secret}]\n"
        "  jwt_secrets: [{key: iss1, secret: s1}]\n"
        "  acls: [{group: admins}]\n"
        "  plugins: [{name: rate-limiting, config: {minute: 1}}]\n"
        "plugins: [{name: correlation-id}]\n");
    QVERIFY2(cfg.ok(), cfg.errorText().c_str());
    QVERIFY((*s)->replace(*cfg).ok());
    QVERIFY(!(*s)->empty());
    auto loaded = (*s)->load();
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    QCOMPARE(loaded->consumers, cfg->consumers);
    QCOMPARE(loaded->keyauthCredentials, cfg->keyauthCredentials);
    // The stored password is the hash; loading must not hash it again.
    QCOMPARE(loaded->basicauthCredentials, cfg->basicauthCredentials);
    QCOMPARE(loaded->jwtSecrets, cfg->jwtSecrets);
    QCOMPARE(loaded->acls, cfg->acls);
    QCOMPARE(loaded->plugins, cfg->plugins);
    QCOMPARE(*loaded, *cfg);
  }

  void roundTripsCertificatesSnisAndCaCertificates() {
    auto path = dir_.filePath("tls.db").toStdString();
    auto cfg = config::parseDeclarative(tlsConfigText());
    QVERIFY2(cfg.ok(), cfg.errorText().c_str());
    {
      auto s = store::openSqlite(path);
      QVERIFY2(s.ok(), s.errorText().c_str());
      QVERIFY((*s)->replace(*cfg).ok());
    }
    auto s = store::openSqlite(path);  // a restart reads them back
    QVERIFY2(s.ok(), s.errorText().c_str());
    QVERIFY(!(*s)->empty());
    auto loaded = (*s)->load();
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    QCOMPARE(loaded->certificates, cfg->certificates);
    QCOMPARE(loaded->snis, cfg->snis);
    QCOMPARE(loaded->caCertificates, cfg->caCertificates);
    QCOMPARE(loaded->services, cfg->services);
    QCOMPARE(*loaded, *cfg);
    // Dropping the certificate and its snis (as the Admin API's cascade does) persists too.
    core::Config next = *cfg;
    next.services[0].clientCertificate.reset();
    next.certificates.clear();
    next.snis.clear();
    QVERIFY((*s)->apply(*cfg, next).ok());
    auto again = (*s)->load();
    QVERIFY2(again.ok(), again.errorText().c_str());
    QVERIFY(again->certificates.empty());
    QVERIFY(again->snis.empty());
    QCOMPARE(*again, next);
  }

  void reopensWithoutRerunningMigrations() {
    auto path = dir_.filePath("reopen.db").toStdString();
    { QVERIFY(store::openSqlite(path).ok()); }
    auto again = store::openSqlite(path);
    QVERIFY(again.ok());
    QCOMPARE((*again)->schemaVersion(), 4);
  }

  void seedsAnEmptyDatabaseOnce() {
    auto path = dir_.filePath("seed.db").toStdString();
    runtime::ConfigSource src;
    src.db = "sqlite:" + path;
    src.seedYaml = "_format_version: '3.0'\nservices: [{name: seeded, host: h}]\n";
    auto first = runtime::loadInitialConfig(src);
    QVERIFY2(first.ok(), first.errorText().c_str());
    QCOMPARE(first->services.size(), std::size_t{1});
    src.seedYaml =
        "_format_version: '3.0'\nservices: [{name: other, host: h}, {name: more, host: h}]\n";
    auto second = runtime::loadInitialConfig(src);
    QVERIFY(second.ok());
    QCOMPARE(second->services.size(), std::size_t{1});  // not re-seeded
  }

  void postgresUrlsGoToThePostgresStore() {
    // Nothing listens on port 1: the PostgreSQL store's connection error, not a file named so.
    auto s = store::open("postgres://archway@127.0.0.1:1/kong");
    QVERIFY(!s.ok());
    QCOMPARE(s.errors().front().path, std::string("db"));
    QVERIFY2(s.errorText().find("cannot connect") != std::string::npos, s.errorText().c_str());
  }

  // Store::apply(): each Admin-API-like edit writes only its rows, and load() returns the new
  // config exactly as it would after replace().
  void applyWritesOnlyTheChangedRowsOfEachKind() {
    auto path = dir_.filePath("apply.db").toStdString();
    auto s = store::openSqlite(path);
    QVERIFY2(s.ok(), s.errorText().c_str());
    auto base = config::parseDeclarative(store_test::kApplyBase);
    QVERIFY2(base.ok(), base.errorText().c_str());
    QVERIFY((*s)->replace(*base).ok());
    WriteCounter counter(path);
    core::Config before = *base;
    for (const auto& step : store_test::applySteps()) {
      core::Config after = before;
      step.edit(after);
      auto applied = (*s)->apply(before, after);
      QVERIFY2(applied.ok(), (std::string(step.name) + ": " + applied.errorText()).c_str());
      QVERIFY2(counter.take() == step.written, step.name);
      auto loaded = (*s)->load();
      QVERIFY2(loaded.ok(), (std::string(step.name) + ": " + loaded.errorText()).c_str());
      QVERIFY2(*loaded == after, step.name);
      before = std::move(after);
    }
    // The targets of the upstream that moved survived (a delete would have cascaded).
    auto loaded = (*s)->load();
    QVERIFY(loaded.ok());
    QCOMPARE(loaded->targets.size(), before.targets.size());
  }

  void applyFallsBackToARewriteWhenRowsCannotExpressTheChange() {
    auto path = dir_.filePath("fallback.db").toStdString();
    auto s = store::openSqlite(path);
    QVERIFY(s.ok());
    auto base = config::parseDeclarative(store_test::kApplyBase);
    QVERIFY(base.ok());
    QVERIFY((*s)->replace(*base).ok());
    // Swapped unique names: every order of row UPDATEs breaks the unique key.
    auto swapped = *base;
    store_test::swapServiceNames(swapped);
    QVERIFY((*s)->apply(*base, swapped).ok());
    auto loaded = (*s)->load();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == swapped);
    // A `before` the file does not hold (an entity the store never had is updated).
    auto stale = swapped;
    stale.consumers.push_back(stale.consumers.front());
    stale.consumers.back().id = core::uuid4();
    stale.consumers.back().username = "never-stored";
    stale.consumers.back().customId.reset();
    auto next = stale;
    next.consumers.back().customId = "changed";
    QVERIFY((*s)->apply(stale, next).ok());
    loaded = (*s)->load();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == next);
  }

  void defaultDatabaseFollowsXdgDataHome() {
    qputenv("XDG_DATA_HOME", dir_.path().toUtf8());
    QCOMPARE(QString::fromStdString(runtime::defaultDatabasePath()),
             dir_.filePath("archway/archway.db"));
    QVERIFY(QFileInfo(dir_.filePath("archway")).isDir());
  }
};

QTEST_GUILESS_MAIN(SqliteStoreTest)
#include "sqlite_store_test.moc"
