// A node whose PostgreSQL goes away, against a real private server (pg_server.h): it keeps
// proxying on its last config, says so on GET /status and /status/ready, refuses writes it
// cannot persist, and when the server is back it reconnects by itself and follows changes again.
#include <QtTest>
#include <chrono>

#include <boost/json/parse.hpp>

#include "../proxy/test_upstream.h"
#include "config/declarative.h"
#include "pg_server.h"
#include "runtime/engine.h"
#include "store/store.h"

using namespace archway;
using Clock = std::chrono::steady_clock;
namespace json = boost::json;

namespace {

core::Config parse(const std::string& yaml) {
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("bad test config: %s", c.errorText().c_str());
  return *c;
}

core::Config routes(unsigned short upstreamPort, const std::vector<std::string>& paths) {
  std::string yaml = "_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:" +
                     std::to_string(upstreamPort) + "\n  routes:\n";
  for (const auto& p : paths) yaml += "  - {name: r" + p + ", paths: [/" + p + "]}\n";
  return parse(yaml);
}

TestClient::Response get(std::uint16_t port, const std::string& target) {
  try {
    TestClient client(port);
    return client.get(target);
  } catch (...) {
    return {};
  }
}

// database.reachable of GET /status; -1 when /status did not answer.
int reachable(std::uint16_t adminPort) {
  auto r = get(adminPort, "/status");
  if (r.status != 200) return -1;
  try {
    return json::parse(r.body).at("database").at("reachable").as_bool() ? 1 : 0;
  } catch (...) {
    return -1;
  }
}

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

class PostgresHealthTest : public QObject {
  Q_OBJECT
 private:
  pgtest::PgServer server_;

 private slots:
  void initTestCase() {
    if (pgtest::PgServer::binDir().isEmpty())
      QSKIP(
          "PostgreSQL is not installed (scripts/install-deps.sh installs the postgresql package)");
    auto err = server_.start();
    QVERIFY2(err.isEmpty(), qPrintable(err));
  }
  void cleanupTestCase() { server_.stop(); }

  void aNodeThatLosesTheDatabaseKeepsServingAndReconnects() {
    QVERIFY(server_.createDatabase("outage").isEmpty());
    const auto url = server_.url("outage").toStdString();
    TestUpstream upstream;
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.workers = 1;
    o.store = url;
    runtime::Engine engine;
    auto started = engine.start(o, {});
    QVERIFY2(started.ok(), started.errorText().c_str());
    const auto proxy = engine.proxyPort();
    const auto admin = engine.adminPort();
    QVERIFY(engine.applyConfig(routes(upstream.port(), {"before"})).ok());
    QCOMPARE(get(proxy, "/before").status, 200);
    QCOMPARE(reachable(admin), 1);
    QCOMPARE(get(admin, "/status/ready").status, 200);

    // The database goes away.
    auto t0 = Clock::now();
    server_.stop();
    QTRY_COMPARE_WITH_TIMEOUT(reachable(admin), 0, 10000);
    qInfo("/status reported the database unreachable %lld ms after it stopped", msSince(t0));
    auto ready = get(admin, "/status/ready");
    QCOMPARE(ready.status, 503);
    QCOMPARE(ready.body, std::string("{\"message\":\"failed to connect to database\"}"));
    // The proxy keeps serving the last config...
    for (int i = 0; i < 5; ++i) QCOMPARE(get(proxy, "/before").status, 200);
    // ...and a change that cannot be stored is refused, leaving that config in force.
    QVERIFY(!engine.applyConfig(routes(upstream.port(), {"before", "lost"})).ok());
    QCOMPARE(get(proxy, "/lost").status, 404);
    QCOMPARE(get(proxy, "/before").status, 200);
    QTest::qWait(1500);  // a few of the watcher's reconnect attempts fail meanwhile
    QCOMPARE(reachable(admin), 0);

    // The database comes back: the node reconnects on its own (backoff at most 5 s).
    auto err = server_.restart();
    QVERIFY2(err.isEmpty(), qPrintable(err));
    t0 = Clock::now();
    QTRY_COMPARE_WITH_TIMEOUT(reachable(admin), 1, 15000);
    qInfo("/status reported the database reachable %lld ms after it restarted", msSince(t0));
    QCOMPARE(get(admin, "/status/ready").status, 200);

    // Changes made by another node reach this one again...
    {
      auto other = store::open(url);
      QVERIFY2(other.ok(), other.errorText().c_str());
      QVERIFY((*other)->replace(routes(upstream.port(), {"before", "after"})).ok());
    }
    QTRY_COMPARE_WITH_TIMEOUT(get(proxy, "/after").status, 200, 3000);
    // ...and its own writes are stored again.
    QVERIFY(engine.applyConfig(routes(upstream.port(), {"again"})).ok());
    QCOMPARE(get(proxy, "/again").status, 200);
    QCOMPARE(get(proxy, "/before").status, 404);
    engine.stop(std::chrono::milliseconds(500));
  }
};

QTEST_GUILESS_MAIN(PostgresHealthTest)
#include "postgres_health_test.moc"
