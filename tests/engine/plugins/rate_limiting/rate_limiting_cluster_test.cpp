// rate-limiting across nodes: two whole Engines (each its own proxy on port 0) sharing one
// limit, through the `cluster` policy on one SQLite database and on one private PostgreSQL
// server, and through the `redis` policy on one redis-server of the test's own, and what
// happens when that database or Redis goes away.
#include <sqlite3.h>

#include <QtTest>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <functional>

#include "../../store/pg_server.h"
#include "../request_transformer/echo_upstream.h"
#include "config/declarative.h"
#include "redis_server.h"
#include "runtime/engine.h"

using namespace archway;
using plugintest::Response;

namespace {

std::string yaml(const std::string& upstream, const std::string& pluginConfig) {
  return "_format_version: '3.0'\n"
         "services:\n"
         "- name: up\n"
         "  url: " +
         upstream +
         "\n"
         "  routes:\n"
         "  - name: limited\n"
         "    paths: [/limited]\n"
         "    plugins:\n"
         "    - name: rate-limiting\n"
         "      config: " +
         pluginConfig + "\n";
}

// Fixed windows reset on the wall clock's minute: start early enough in a minute.
void awayFromMinuteEnd() {
  while (std::time(nullptr) % 60 >= 45) QThread::msleep(200);
}

bool waitFor(const std::function<bool()>& condition, int ms = 5000) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (condition()) return true;
    QThread::msleep(20);
  }
  return condition();
}

// One gateway node: an Engine with its own proxy, on the shared store (or none).
class Node {
 public:
  Node(const std::string& config, const std::string& store,
       std::chrono::milliseconds syncInterval = std::chrono::milliseconds(0)) {
    auto parsed = config::parseDeclarative(config);
    if (!parsed) qFatal("kong.yml did not parse: %s", parsed.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 2;
    o.store = store;
    o.rateLimitSyncInterval = syncInterval;
    started_ = engine_.start(o, std::move(*parsed));
  }
  ~Node() { engine_.stop(); }
  const core::Status& started() const { return started_; }
  runtime::Engine& engine() { return engine_; }
  Response get(const std::string& target) {
    return plugintest::request(engine_.proxyPort(), "GET", target);
  }
  void sync() {
    auto s = engine_.syncRateLimitCounters();
    QVERIFY2(s.ok(), s.errorText().c_str());
  }

 private:
  runtime::Engine engine_;
  core::Status started_ = core::Ok{};
};

// A statement on the SQLite database, from outside the engines; the first column of the
// first row (empty without a row, "error: ..." on failure).
std::string sqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    out = std::string("error: ") + sqlite3_errmsg(db);
  } else {
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      out = std::string("error: ") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string messageOf(const Response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("message")) return r.body;
  return std::string(v.at("message").as_string());
}

// The same on PostgreSQL.
std::string postgres(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                        ? std::string(PQgetvalue(r, 0, 0))
                        : "error: " + std::string(PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return out;
}

const char* kMinuteCount =
    "SELECT COALESCE(SUM(value), 0) FROM ratelimiting_metrics WHERE period = 'minute'";

}  // namespace

class RateLimitingClusterTest : public QObject {
  Q_OBJECT
 private:
  plugintest::EchoUpstream upstream_;
  QTemporaryDir dir_;
  std::string base() const { return "http://127.0.0.1:" + std::to_string(upstream_.port()); }
  std::string db(const char* name) const { return dir_.filePath(name).toStdString(); }

 private Q_SLOTS:
  void twoEnginesOnOneDatabaseShareTheLimitExactly() {
    awayFromMinuteEnd();
    const std::string path = db("exact.db");
    const std::string config = yaml(base(), "{minute: 6, limit_by: ip, policy: cluster}");
    Node a(config, "sqlite:" + path), b(config, "sqlite:" + path);
    QVERIFY2(a.started().ok(), a.started().errorText().c_str());
    QVERIFY2(b.started().ok(), b.started().errorText().c_str());
    const int before = upstream_.requests();
    // Alternating nodes, each node synced after every request (what the sync thread does
    // every 100 ms): exactly the limit passes, then both refuse.
    for (int i = 0; i < 10; ++i) {
      Node& n = i % 2 ? b : a;
      Node& other = i % 2 ? a : b;
      auto r = n.get("/limited/x");
      n.sync();
      other.sync();
      if (i < 6) {
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("x-ratelimit-limit-minute"), std::string("6"));
        // A node's first request for a counter does not know the others' counts yet.
        if (i >= 2) QCOMPARE(r.header("x-ratelimit-remaining-minute"), std::to_string(5 - i));
      } else {
        QCOMPARE(r.status, 429);
        QCOMPARE(messageOf(r), std::string("API rate limit exceeded"));
        QVERIFY(r.header("content-type").find("application/json") == 0);
        QCOMPARE(r.header("x-ratelimit-remaining-minute"), std::string("0"));
        QCOMPARE(r.header("ratelimit-remaining"), std::string("0"));
        QCOMPARE(r.header("ratelimit-limit"), std::string("6"));
        QVERIFY(r.has("retry-after"));
        QCOMPARE(r.header("retry-after"), r.header("ratelimit-reset"));
      }
    }
    QCOMPARE(upstream_.requests() - before, 6);
    // Kong's ratelimiting_metrics row: refused requests are not counted.
    QCOMPARE(sqlite(path, kMinuteCount), std::string("6"));
    QCOMPARE(sqlite(path,
                    "SELECT identifier || ' ' || period || ' ' || (period_date % 60) || ' ' "
                    "|| (ttl - period_date) FROM ratelimiting_metrics"),
             std::string("127.0.0.1 minute 0 60"));
  }

  void backgroundSyncCarriesCountsBetweenEngines() {
    awayFromMinuteEnd();
    const std::string path = db("background.db");
    const std::string config = yaml(base(), "{minute: 5, limit_by: ip, policy: cluster}");
    Node a(config, "sqlite:" + path, std::chrono::milliseconds(50));
    Node b(config, "sqlite:" + path, std::chrono::milliseconds(50));
    QVERIFY(a.started().ok() && b.started().ok());
    for (int i = 0; i < 3; ++i) QCOMPARE(a.get("/limited/y").status, 200);
    QVERIFY(waitFor([&] { return sqlite(path, kMinuteCount) == "3"; }));
    QCOMPARE(b.get("/limited/y").status, 200);  // b's first: counted, then b learns the total
    QVERIFY(waitFor([&] { return sqlite(path, kMinuteCount) == "4"; }));
    QThread::msleep(300);  // a few sync periods: both nodes have read the total back
    auto last = b.get("/limited/y");
    QCOMPARE(last.status, 200);
    QCOMPARE(last.header("x-ratelimit-remaining-minute"), std::string("0"));
    QCOMPARE(b.get("/limited/y").status, 429);
    QVERIFY(waitFor([&] { return sqlite(path, kMinuteCount) == "5"; }));
    QThread::msleep(300);
    QCOMPARE(a.get("/limited/y").status, 429);
  }

  void unreachableDatabaseFollowsFaultTolerant() {
    awayFromMinuteEnd();
    const std::string path = db("fault.db");
    const std::string config =
        "_format_version: '3.0'\n"
        "services:\n"
        "- name: up\n"
        "  url: " +
        base() +
        "\n"
        "  routes:\n"
        "  - name: strict\n"
        "    paths: [/strict]\n"
        "    plugins: [{name: rate-limiting, config: {minute: 100, policy: cluster, "
        "fault_tolerant: false}}]\n"
        "  - name: tolerant\n"
        "    paths: [/tolerant]\n"
        "    plugins: [{name: rate-limiting, config: {minute: 100, policy: cluster}}]\n";
    Node n(config, "sqlite:" + path);
    QVERIFY2(n.started().ok(), n.started().errorText().c_str());
    QCOMPARE(n.get("/strict/1").status, 200);
    n.sync();
    // The counters' table goes away under the engine: its next sync fails.
    QCOMPARE(sqlite(path, "DROP TABLE ratelimiting_metrics"), std::string());
    QVERIFY(!n.engine().syncRateLimitCounters().ok());
    auto strict = n.get("/strict/2");
    QCOMPARE(strict.status, 500);
    QCOMPARE(messageOf(strict), std::string("An unexpected error occurred"));
    auto tolerant = n.get("/tolerant/2");
    QCOMPARE(tolerant.status, 200);
    QVERIFY(!tolerant.has("x-ratelimit-limit-minute"));
    // Back: limits and headers again.
    QCOMPARE(sqlite(path,
                    "CREATE TABLE ratelimiting_metrics (identifier TEXT NOT NULL, period "
                    "TEXT NOT NULL, period_date INTEGER NOT NULL, service_id TEXT NOT NULL, "
                    "route_id TEXT NOT NULL, value INTEGER NOT NULL, ttl INTEGER NOT NULL, "
                    "PRIMARY KEY (identifier, period, period_date, service_id, route_id))"),
             std::string());
    n.sync();
    auto back = n.get("/strict/3");
    QCOMPARE(back.status, 200);
    QVERIFY(back.has("x-ratelimit-remaining-minute"));
  }

  void twoEnginesOnOnePostgresShareTheLimitAndSurviveItsRestart() {
    if (pgtest::PgServer::binDir().isEmpty())
      QSKIP("PostgreSQL is not installed (scripts/install-deps.sh installs it)");
    pgtest::PgServer pg;
    auto err = pg.start();
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QVERIFY(pg.createDatabase("ratelimit").isEmpty());
    const std::string url = pg.url("ratelimit").toStdString();
    awayFromMinuteEnd();
    const std::string config =
        yaml(base(), "{minute: 4, limit_by: ip, policy: cluster, fault_tolerant: false}");
    Node a(config, url), b(config, url);
    QVERIFY2(a.started().ok(), a.started().errorText().c_str());
    QVERIFY2(b.started().ok(), b.started().errorText().c_str());
    for (int i = 0; i < 8; ++i) {
      Node& n = i % 2 ? b : a;
      Node& other = i % 2 ? a : b;
      auto r = n.get("/limited/p");
      n.sync();
      other.sync();
      QCOMPARE(r.status, i < 4 ? 200 : 429);
      if (i >= 2)
        QCOMPARE(r.header("x-ratelimit-remaining-minute"), std::to_string(std::max(0, 3 - i)));
    }
    QCOMPARE(postgres(url, "SELECT value FROM ratelimiting_metrics WHERE period = 'minute'"),
             std::string("4"));
    QCOMPARE(postgres(url,
                      "SELECT identifier || ' ' || extract(epoch FROM ttl - period_date)::int "
                      "FROM ratelimiting_metrics WHERE period = 'minute'"),
             std::string("127.0.0.1 60"));
    // The server goes away: the next sync fails and fault_tolerant=false answers 500.
    pg.stop();
    QVERIFY(!a.engine().syncRateLimitCounters().ok());
    auto down = a.get("/limited/p");
    QCOMPARE(down.status, 500);
    QCOMPARE(messageOf(down), std::string("An unexpected error occurred"));
    // Back: the counter store reconnects and the shared count is still there.
    err = pg.restart();
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QVERIFY(waitFor([&] { return a.engine().syncRateLimitCounters().ok(); }, 10000));
    QCOMPARE(a.get("/limited/p").status, 429);
  }

  void clusterPolicyNeedsADatabase() {
    Node n(yaml(base(), "{minute: 5, policy: cluster}"), "");
    QVERIFY(!n.started().ok());
    QVERIFY2(n.started().errorText().find("config.policy") != std::string::npos,
             n.started().errorText().c_str());
    QVERIFY(n.started().errorText().find("needs a node with a database") != std::string::npos);
  }

  void twoEnginesShareOneRedisLimitAndSurviveItsLoss() {
    if (QStandardPaths::findExecutable("redis-server").isEmpty())
      QSKIP("redis-server is not installed");
    plugintest::RedisServer redis;
    QVERIFY(redis.start());
    awayFromMinuteEnd();
    const std::string config =
        yaml(base(), "{minute: 5, limit_by: ip, policy: redis, redis: {host: 127.0.0.1, port: " +
                         std::to_string(redis.port()) + ", timeout: 500}}");
    Node a(config, ""), b(config, "");
    QVERIFY(a.started().ok() && b.started().ok());
    const int before = upstream_.requests();
    int ok = 0, refused = 0;
    for (int i = 0; i < 10; ++i) {
      auto r = (i % 2 ? b : a).get("/limited/r");
      if (r.status == 200) {
        ++ok;
        QCOMPARE(r.header("x-ratelimit-remaining-minute"), std::to_string(5 - ok));
      } else {
        QCOMPARE(r.status, 429);
        QCOMPARE(messageOf(r), std::string("API rate limit exceeded"));
        ++refused;
      }
    }
    QCOMPARE(ok, 5);
    QCOMPARE(refused, 5);
    QCOMPARE(upstream_.requests() - before, 5);
    // Redis goes away mid-test; fault_tolerant (the default): both nodes let requests through
    // without rate-limit headers.
    redis.kill();
    for (Node* n : {&a, &b}) {
      auto r = n->get("/limited/r");
      QCOMPARE(r.status, 200);
      QVERIFY(!r.has("x-ratelimit-limit-minute"));
    }
  }
};

QTEST_GUILESS_MAIN(RateLimitingClusterTest)
#include "rate_limiting_cluster_test.moc"
