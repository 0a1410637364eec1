// The PostgreSQL store against a real, private PostgreSQL server: started from the Debian
// packages (scripts/install-deps.sh installs `postgresql`) on loopback in a temporary directory,
// stopped and deleted at the end, also when a test fails.
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QtTest>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "../proxy/test_upstream.h"
#include "apply_steps.h"
#include "pg_server.h"
#include <boost/json/serialize.hpp>

#include "../config/test_certificates.h"
#include "config/declarative.h"
#include "runtime/config_source.h"
#include "runtime/engine.h"
#include "store/store.h"

using namespace archway;
using Clock = std::chrono::steady_clock;

namespace {

using pgtest::freePort;
using pgtest::PgServer;

// One SQL scalar, for checks the Store interface does not expose.
QString scalar(const QString& url, const QString& sql) {
  PGconn* c = PQconnectdb(url.toUtf8().constData());
  PGresult* r = PQexec(c, sql.toUtf8().constData());
  QString v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                  ? QString::fromUtf8(PQgetvalue(r, 0, 0))
                  : "error: " + QString::fromUtf8(PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return v;
}

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

core::Config parse(const std::string& yaml) {
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("bad test config: %s", c.errorText().c_str());
  return *c;
}

const std::string kRich =
    "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a:81/x\n  read_timeout: 5\n"
    "  tags: [t1, 'quote\"d']\n"
    "  routes: [{name: r, paths: [/r], methods: [GET], hosts: ['*.a.com'], headers: {x-v: "
    "[1]}}]\n"
    "- name: b\n  host: b.internal\n"
    "routes: [{name: orphan, paths: ['~/o/\\d+$']}]\n"
    "upstreams:\n- name: backend\n  algorithm: least-connections\n"
    "  healthchecks: {active: {healthy: {interval: 5}}, passive: {unhealthy: {http_failures: 3}}}\n"
    "  targets: [{target: '10.0.0.1:80', weight: 5}, {target: 'b.internal'}]\n";

const std::string kWithConsumers =
    "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a:81\n"
    "  routes: [{name: r, paths: [/r], plugins: [{name: key-auth}]}]\n"
    "  plugins: [{name: rate-limiting, config: {minute: 5}}]\n"
    "consumers:\n- username: alice\n  custom_id: A\n"
    "  keyauth_credentials: [{key: k1, ttl: 60}]\n"
    "  basicauth_credentials: [{username: alice, password: secret}]\n"
    "  jwt_secrets: [{key: iss1, secret: s1}]\n"
    "  acls: [{group: admins}]\n"
    "  plugins: [{name: rate-limiting, config: {minute: 1}}]\n"
    "plugins: [{name: correlation-id}]\n";

// Records the watch callbacks of one Store.
struct Watched {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::string> changes;
  store::Store::ChangeCallback callback() {
    return [this](const std::string& change) {
      {
        std::lock_guard lock(mutex);
        changes.push_back(change);
      }
      ++calls;
    };
  }
};

}  // namespace

class PostgresStoreTest : public QObject {
  Q_OBJECT
 private:
  PgServer server_;

  std::unique_ptr<store::Store> open(const QString& url) {
    auto s = store::open(url.toStdString());
    if (!s) qWarning("open failed: %s", s.errorText().c_str());
    return s ? std::move(s.value()) : nullptr;
  }

 private slots:
  void initTestCase() {
    if (PgServer::binDir().isEmpty())
      QSKIP(
          "PostgreSQL is not installed (scripts/install-deps.sh installs the postgresql package)");
    auto err = server_.start();
    QVERIFY2(err.isEmpty(), qPrintable(err));
  }
  void cleanupTestCase() { server_.stop(); }

  void migratesAnEmptyDatabase() {
    QVERIFY(server_.createDatabase("migrate").isEmpty());
    auto url = server_.url("migrate");
    {
      auto s = open(url);
      QVERIFY(s);
      QCOMPARE(s->schemaVersion(), 4);
      QVERIFY(s->empty());
      QVERIFY(s->load().ok());
    }
    QCOMPARE(scalar(url, "SELECT count(*) FROM schema_migrations"), QString("4"));
    QCOMPARE(scalar(url, "SELECT version FROM config_version"), QString("0"));
    auto again = open(url);  // reopening does not re-run migrations
    QVERIFY(again);
    QCOMPARE(again->schemaVersion(), 4);
    QCOMPARE(scalar(url, "SELECT count(*) FROM schema_migrations"), QString("4"));
  }

  void nodesStartingTogetherMigrateOnce() {
    QVERIFY(server_.createDatabase("together").isEmpty());
    auto url = server_.url("together").toStdString();
    std::atomic<int> ok{0};
    std::vector<std::thread> nodes;
    for (int i = 0; i < 4; ++i) {
      nodes.emplace_back([&] {
        if (auto s = store::openPostgres(url); s && (*s)->schemaVersion() == 4) ++ok;
      });
    }
    for (auto& t : nodes) t.join();
    QCOMPARE(ok.load(), 4);
  }

  void roundTripsAConfig() {
    QVERIFY(server_.createDatabase("roundtrip").isEmpty());
    auto s = open(server_.url("roundtrip"));
    QVERIFY(s);
    auto cfg = parse(kRich);
    QVERIFY(s->replace(cfg).ok());
    QVERIFY(!s->empty());
    auto loaded = s->load();
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    QCOMPARE(loaded->services, cfg.services);
    QCOMPARE(loaded->routes, cfg.routes);
    QCOMPARE(loaded->upstreams, cfg.upstreams);
    QCOMPARE(loaded->targets, cfg.targets);
    QVERIFY(*loaded == cfg);

    // replace() replaces: nothing of the previous config survives.
    auto smaller = parse("_format_version: '3.0'\nservices: [{name: only, host: h}]\n");
    QVERIFY(s->replace(smaller).ok());
    auto again = s->load();
    QVERIFY(again.ok());
    QVERIFY(*again == smaller);
    QCOMPARE(scalar(server_.url("roundtrip"), "SELECT version FROM config_version"), QString("2"));
  }

  void roundTripsConsumersCredentialsAndPlugins() {
    QVERIFY(server_.createDatabase("plugins").isEmpty());
    auto s = open(server_.url("plugins"));
    QVERIFY(s);
    auto cfg = parse(kWithConsumers);
    QVERIFY(s->replace(cfg).ok());
    QVERIFY(!s->empty());
    auto loaded = s->load();
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    QCOMPARE(loaded->consumers, cfg.consumers);
    QCOMPARE(loaded->keyauthCredentials, cfg.keyauthCredentials);
    // The stored password is the hash; loading must not hash it again.
    QCOMPARE(loaded->basicauthCredentials, cfg.basicauthCredentials);
    QCOMPARE(loaded->jwtSecrets, cfg.jwtSecrets);
    QCOMPARE(loaded->acls, cfg.acls);
    QCOMPARE(loaded->plugins, cfg.plugins);
    QVERIFY(*loaded == cfg);
    QCOMPARE(scalar(server_.url("plugins"), "SELECT count(*) FROM entities"), QString("9"));
    // Only consumers, credentials or plugins still make a database non-empty.
    core::Config onlyConsumers;
    onlyConsumers.consumers = cfg.consumers;
    QVERIFY(s->replace(onlyConsumers).ok());
    QVERIFY(!s->empty());
    QVERIFY(s->replace({}).ok());
    QVERIFY(s->empty());
  }

  void roundTripsCertificatesSnisAndCaCertificates() {
    QVERIFY(server_.createDatabase("tls").isEmpty());
    auto s = open(server_.url("tls"));
    QVERIFY(s);
    auto cfg = parse(tlsConfigText());
    QVERIFY(s->replace(cfg).ok());
    QVERIFY(!s->empty());
    auto other = open(server_.url("tls"));  // another node reads them back
    QVERIFY(other);
    auto loaded = other->load();
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    QCOMPARE(loaded->certificates, cfg.certificates);
    QCOMPARE(loaded->snis, cfg.snis);
    QCOMPARE(loaded->caCertificates, cfg.caCertificates);
    QCOMPARE(loaded->services, cfg.services);
    QVERIFY(*loaded == cfg);
    QCOMPARE(scalar(server_.url("tls"), "SELECT count(*) FROM entities WHERE kind = 'snis'"),
             QString("3"));
    core::Config next = cfg;
    next.services[0].clientCertificate.reset();
    next.certificates.clear();
    next.snis.clear();
    QVERIFY(s->apply(cfg, next).ok());
    auto again = other->load();
    QVERIFY2(again.ok(), again.errorText().c_str());
    QVERIFY(*again == next);
  }

  void aFailedReplaceChangesNothing() {
    QVERIFY(server_.createDatabase("atomic").isEmpty());
    auto s = open(server_.url("atomic"));
    QVERIFY(s);
    auto good = parse(kRich);
    QVERIFY(s->replace(good).ok());
    // Two services with one name get past no validator here, but the database's unique key
    // stops them after some rows were already written: the transaction must roll back.
    auto bad = good;
    bad.services.push_back(bad.services.front());
    bad.services.back().id = "00000000-0000-4000-8000-000000000001";
    auto r = s->replace(bad);
    QVERIFY(!r.ok());
    QCOMPARE(r.errors().front().path, std::string("db"));
    auto loaded = s->load();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == good);
    QCOMPARE(scalar(server_.url("atomic"), "SELECT version FROM config_version"), QString("1"));
  }

  void manyEntitiesRoundTrip() {
    QVERIFY(server_.createDatabase("many").isEmpty());
    auto s = open(server_.url("many"));
    QVERIFY(s);
    std::string yaml = "_format_version: '3.0'\nservices:\n";
    for (int i = 0; i < 2000; ++i) {
      yaml += "- {name: s" + std::to_string(i) + ", host: h" + std::to_string(i) +
              ", routes: [{name: r" + std::to_string(i) + ", paths: [/p" + std::to_string(i) +
              "]}]}\n";
    }
    auto cfg = parse(yaml);
    auto t0 = Clock::now();
    QVERIFY(s->replace(cfg).ok());
    auto t1 = Clock::now();
    auto loaded = s->load();
    auto t2 = Clock::now();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == cfg);
    qInfo("4000 entities: replace %lld ms, load %lld ms",
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count()),
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::milliseconds>(t2 - t1).count()));
  }

  void seedsAnEmptyDatabaseOnce() {
    QVERIFY(server_.createDatabase("seed").isEmpty());
    runtime::ConfigSource src;
    src.db = server_.url("seed").toStdString();
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

  void unreachableServerIsAnErrorNotAHang() {
    auto t0 = Clock::now();
    auto s =
        store::open("postgres://archway:secret@127.0.0.1:" + std::to_string(freePort()) + "/x");
    QVERIFY(!s.ok());
    QCOMPARE(s.errors().front().path, std::string("db"));
    QVERIFY(s.errorText().find("secret") == std::string::npos);  // the password is not echoed
    QVERIFY(Clock::now() - t0 < std::chrono::seconds(6));
  }

  void aWriteOnOneNodeReachesTheOther() {
    QVERIFY(server_.createDatabase("twonodes").isEmpty());
    auto a = open(server_.url("twonodes"));
    auto b = open(server_.url("twonodes"));
    QVERIFY(a && b);
    Watched wa, wb;
    a->watch(wa.callback());
    b->watch(wb.callback());
    QTest::qWait(300);  // both listening (an empty database reports no change)
    QCOMPARE(wb.calls.load(), 0);

    auto cfg = parse(kRich);
    auto t0 = Clock::now();
    QVERIFY(a->replace(cfg).ok());
    QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() >= 1, 1000);
    qInfo("propagation: %lld ms",
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
    auto loaded = b->load();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == cfg);
    QTest::qWait(300);
    QCOMPARE(wa.calls.load(), 0);  // a writer is not told about its own writes

    // A burst is coalesced into few callbacks and ends on the last config.
    const int before = wb.calls.load();
    auto last = cfg;
    for (int i = 0; i < 10; ++i) {
      last.services.front().readTimeout = 1000 + i;
      QVERIFY(a->replace(last).ok());
    }
    QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() > before, 1000);
    QTest::qWait(300);
    QVERIFY(wb.calls.load() - before <= 10);
    auto end = b->load();
    QVERIFY(end.ok());
    QVERIFY(*end == last);

    // After unwatch() no callback runs, and unwatch() is prompt.
    auto t1 = Clock::now();
    b->unwatch();
    QVERIFY(Clock::now() - t1 < std::chrono::milliseconds(500));
    const int stopped = wb.calls.load();
    QVERIFY(a->replace(cfg).ok());
    QTest::qWait(500);
    QCOMPARE(wb.calls.load(), stopped);
  }

  void aWatcherReportsChangesMadeBeforeItListened() {
    QVERIFY(server_.createDatabase("late").isEmpty());
    auto a = open(server_.url("late"));
    auto b = open(server_.url("late"));
    QVERIFY(a && b);
    QVERIFY(a->replace(parse(kRich)).ok());
    Watched wb;
    b->watch(wb.callback());  // b never loaded: what it holds is older than the database
    QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() == 1, 1000);
    QVERIFY(b->load().ok());
    Watched wc;
    b->watch(wc.callback());  // now up to date: nothing to report
    QTest::qWait(500);
    QCOMPARE(wc.calls.load(), 0);
  }

  void theWatcherReconnectsAfterAServerRestart() {
    QVERIFY(server_.createDatabase("restart").isEmpty());
    auto a = open(server_.url("restart"));
    auto b = open(server_.url("restart"));
    QVERIFY(a && b);
    Watched wb;
    b->watch(wb.callback());
    QTest::qWait(300);

    // A change made while the watcher is away is reported when it is back...
    auto err = server_.restart();
    QVERIFY2(err.isEmpty(), qPrintable(err));
    auto cfg = parse(kRich);
    QVERIFY2(a->replace(cfg).ok(), "the writer reconnects on its own");
    QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() >= 1, 10000);
    QVERIFY(b->load().ok());  // b's main connection reconnects too

    // ...and notifications flow again (the callback above came from a listening watcher).
    const int before = wb.calls.load();
    cfg.services.front().readTimeout = 42;
    QVERIFY(a->replace(cfg).ok());
    QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() > before, 1000);
    auto loaded = b->load();
    QVERIFY(loaded.ok());
    QCOMPARE(loaded->services.front().readTimeout, 42);
  }

  void twoEnginesShareOneDatabase() {
    QVERIFY(server_.createDatabase("engines").isEmpty());
    const auto url = server_.url("engines").toStdString();
    TestUpstream upstream;
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    o.store = url;
    runtime::Engine a, b;
    QVERIFY(a.start(o, {}).ok());
    QVERIFY(b.start(o, {}).ok());
    QTest::qWait(300);  // b's watcher is listening

    auto get = [](std::uint16_t port) {
      try {
        TestClient client(port);
        return client.get("/shared/x").status;
      } catch (...) {
        return 0;
      }
    };
    QCOMPARE(get(b.proxyPort()), 404);
    auto cfg =
        parse("_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:" +
              std::to_string(upstream.port()) + "\n  routes: [{name: shared, paths: [/shared]}]\n");
    auto t0 = Clock::now();
    QVERIFY(a.applyConfig(cfg).ok());
    QCOMPARE(get(a.proxyPort()), 200);
    QTRY_VERIFY_WITH_TIMEOUT(get(b.proxyPort()) == 200, 1500);
    qInfo("route on engine A serving on engine B after %lld ms",
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
    QVERIFY(*b.config() == *a.config());

    // Reloading from the store does not write back (no NOTIFY ping-pong between nodes): one
    // write, one version, however long we wait.
    QTest::qWait(1000);
    QCOMPARE(scalar(server_.url("engines"), "SELECT version FROM config_version"), QString("1"));

    // And the other way round.
    auto back = cfg;
    back.routes.clear();
    QVERIFY(b.applyConfig(back).ok());
    QTRY_VERIFY_WITH_TIMEOUT(get(a.proxyPort()) == 404, 1500);
    QTest::qWait(500);
    QCOMPARE(scalar(server_.url("engines"), "SELECT version FROM config_version"), QString("2"));

    auto t1 = Clock::now();
    b.stop(std::chrono::milliseconds(500));
    a.stop(std::chrono::milliseconds(500));
    QVERIFY(Clock::now() - t1 < std::chrono::seconds(3));
  }

  // Store::apply(): each Admin-API-like edit writes only its rows (those whose xmin is the
  // writing transaction's), bumps the version once, notifies the other node once, and both
  // nodes then load exactly the new config.
  void applyWritesOnlyTheChangedRowsAndNotifiesOnce() {
    QVERIFY(server_.createDatabase("apply").isEmpty());
    const auto url = server_.url("apply");
    auto a = open(url);
    auto b = open(url);
    QVERIFY(a && b);
    auto base = parse(store_test::kApplyBase);
    QVERIFY(a->replace(base).ok());
    Watched wb;
    b->watch(wb.callback());
    QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() == 1, 2000);  // the replace above
    QVERIFY(b->load().ok());
    // Every row's version (xmin): a row is written when it is new or its xmin changed.
    auto rowVersions = [&] {
      QString all = scalar(
          url,
          "SELECT string_agg(k || '/' || id || '=' || x, ',') FROM (SELECT 'services' k, id, "
          "xmin::text x FROM services UNION ALL SELECT 'routes', id, xmin::text FROM routes "
          "UNION ALL SELECT 'upstreams', id, xmin::text FROM upstreams UNION ALL SELECT "
          "'targets', id, xmin::text FROM targets UNION ALL SELECT kind, id, xmin::text FROM "
          "entities) q");
      QMap<QString, QString> versions;
      for (const auto& row : all.split(',', Qt::SkipEmptyParts))
        versions.insert(row.section('=', 0, 0), row.section('=', 1));
      return versions;
    };
    auto writtenSince = [](const QMap<QString, QString>& was, const QMap<QString, QString>& now) {
      int n = 0;
      for (auto it = now.begin(); it != now.end(); ++it) n += was.value(it.key()) != it.value();
      return n;
    };
    core::Config before = base;
    int version = 1;
    for (const auto& step : store_test::applySteps()) {
      core::Config after = before;
      step.edit(after);
      const int calls = wb.calls.load();
      const auto was = rowVersions();
      auto applied = a->apply(before, after);
      QVERIFY2(applied.ok(), (std::string(step.name) + ": " + applied.errorText()).c_str());
      auto loaded = a->load();
      QVERIFY2(loaded.ok(), (std::string(step.name) + ": " + loaded.errorText()).c_str());
      QVERIFY2(*loaded == after, step.name);
      if (after == before) {  // nothing to write: no version, no notification
        QCOMPARE(scalar(url, "SELECT version FROM config_version"), QString::number(version));
        QTest::qWait(200);
        QCOMPARE(wb.calls.load(), calls);
        continue;
      }
      ++version;
      QCOMPARE(scalar(url, "SELECT version FROM config_version"), QString::number(version));
      const int written = writtenSince(was, rowVersions());
      QVERIFY2(written == step.written,
               qPrintable(QString("%1: %2 rows written").arg(step.name).arg(written)));
      QTRY_VERIFY_WITH_TIMEOUT(wb.calls.load() == calls + 1, 2000);
      auto seen = b->load();
      QVERIFY(seen.ok());
      QVERIFY2(*seen == after, step.name);
      before = std::move(after);
    }
  }

  void applyRewritesWhenAnotherNodeWroteSince() {
    QVERIFY(server_.createDatabase("applystale").isEmpty());
    auto a = open(server_.url("applystale"));
    auto b = open(server_.url("applystale"));
    QVERIFY(a && b);
    auto base = parse(store_test::kApplyBase);
    QVERIFY(a->replace(base).ok());
    QVERIFY(b->load().ok());
    auto fromA = base;
    fromA.services.front().readTimeout = 111;
    QVERIFY(a->apply(base, fromA).ok());
    // b still believes the database holds `base`: its write is the whole config (last writer
    // wins, as with replace()), not a delta on top of a's.
    auto fromB = base;
    fromB.consumers.front().customId = "from-b";
    QVERIFY(b->apply(base, fromB).ok());
    auto loaded = a->load();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == fromB);
    // Swapped unique names cannot be written row by row: rewritten, same result.
    auto swapped = fromB;
    store_test::swapServiceNames(swapped);
    QVERIFY(a->apply(fromB, swapped).ok());
    loaded = b->load();
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == swapped);
  }
};

QTEST_GUILESS_MAIN(PostgresStoreTest)
#include "postgres_store_test.moc"
