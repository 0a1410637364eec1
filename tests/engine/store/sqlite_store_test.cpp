#include <QtTest>

#include "config/declarative.h"
#include "runtime/config_source.h"
#include "store/store.h"

using namespace archway;

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
    QCOMPARE((*s)->schemaVersion(), 3);
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

  void reopensWithoutRerunningMigrations() {
    auto path = dir_.filePath("reopen.db").toStdString();
    { QVERIFY(store::openSqlite(path).ok()); }
    auto again = store::openSqlite(path);
    QVERIFY(again.ok());
    QCOMPARE((*again)->schemaVersion(), 3);
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

  void defaultDatabaseFollowsXdgDataHome() {
    qputenv("XDG_DATA_HOME", dir_.path().toUtf8());
    QCOMPARE(QString::fromStdString(runtime::defaultDatabasePath()),
             dir_.filePath("archway/archway.db"));
    QVERIFY(QFileInfo(dir_.filePath("archway")).isDir());
  }
};

QTEST_GUILESS_MAIN(SqliteStoreTest)
#include "sqlite_store_test.moc"
