// Per-consumer and per-target statistics through a real engine: key-auth consumers, an upstream
// with two targets (two demo servers), the stats frame and GET /archway/stats; and the live
// access log subscription.
#include <QtNetwork/QTcpSocket>
#include <QtTest>

#include <boost/json/parse.hpp>
#include <mutex>

#include "config/declarative.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"

using namespace archway;

namespace {

QByteArray fetch(quint16 port, const QByteArray& path, const QByteArray& apikey = {}) {
  QTcpSocket s;
  s.connectToHost(QHostAddress::LocalHost, port);
  if (!s.waitForConnected(5000)) return {};
  QByteArray req = "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n";
  if (!apikey.isEmpty()) req += "apikey: " + apikey + "\r\n";
  s.write(req + "\r\n");
  QByteArray out;
  while (s.waitForReadyRead(5000)) out += s.readAll();
  return out;
}

const metrics::EntityStats* find(const metrics::EntityList& list,
                                 const std::string& name) {
  for (const auto& e : list) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace

class EngineStatsTest : public QObject {
  Q_OBJECT
 private:
  demo::DemoServer one_, two_;
  runtime::Engine engine_;
  std::string target1_, target2_;
  std::mutex linesMutex_;
  std::vector<std::string> lines_;

 private slots:
  void initTestCase() {
    auto p1 = one_.start("127.0.0.1", 0);
    auto p2 = two_.start("127.0.0.1", 0);
    QVERIFY(p1.ok() && p2.ok());
    target1_ = "127.0.0.1:" + std::to_string(*p1);
    target2_ = "127.0.0.1:" + std::to_string(*p2);
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\n"
        "upstreams:\n"
        "- name: pool\n"
        "  targets: [{target: '" + target1_ + "'}, {target: '" + target2_ + "'}]\n"
        "services:\n"
        "- name: api\n"
        "  url: http://pool/anything\n"
        "  routes: [{name: api, paths: [/api]}]\n"
        "  plugins: [{name: key-auth}]\n"
        "consumers:\n"
        "- username: alice\n"
        "  keyauth_credentials: [{key: alice-key}]\n"
        "- username: bob\n"
        "  keyauth_credentials: [{key: bob-key}]\n"
        "- custom_id: carol-cid\n"
        "  keyauth_credentials: [{key: carol-key}]\n"
        "- username: idle\n");
    QVERIFY2(c.ok(), c.ok() ? "" : c.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.workers = 2;
    o.statsInterval = std::chrono::milliseconds(50);
    o.tracing = false;
    engine_.subscribeAccessLog([this](std::string_view line) {
      std::lock_guard lock(linesMutex_);
      lines_.emplace_back(line);
    });
    QVERIFY(engine_.start(o, std::move(*c)).ok());
    const quint16 port = engine_.proxyPort();
    for (int i = 0; i < 6; ++i) QVERIFY(fetch(port, "/api", "alice-key").startsWith("HTTP/1.1 200"));
    for (int i = 0; i < 3; ++i) QVERIFY(fetch(port, "/api", "bob-key").startsWith("HTTP/1.1 200"));
    QVERIFY(fetch(port, "/api", "carol-key").startsWith("HTTP/1.1 200"));
    QVERIFY(fetch(port, "/api").startsWith("HTTP/1.1 401"));
    QVERIFY(fetch(port, "/api", "wrong").startsWith("HTTP/1.1 401"));
    QTRY_VERIFY(engine_.latestStats()->total.requests >= 12);
  }
  void cleanupTestCase() {
    engine_.stop();
    one_.stop();
    two_.stop();
  }

  void frameCountsEachConsumer() {
    auto f = engine_.latestStats();
    QCOMPARE(f->consumersActive, std::uint64_t{3});
    QCOMPARE(f->consumers.size(), std::size_t{3});
    QCOMPARE(f->consumers[0].name, std::string("alice"));  // busiest first
    QCOMPARE(f->consumers[0].requests, std::uint64_t{6});
    QCOMPARE(f->consumers[0].status2xx, std::uint64_t{6});
    QVERIFY(f->consumers[0].latency60s.count == 6);
    QVERIFY(f->consumers[0].upstreamLatency60s.p50 > 0);
    const auto* bob = find(f->consumers, "bob");
    QVERIFY(bob);
    QCOMPARE(bob->requests, std::uint64_t{3});
    // A consumer without a username is named by its custom_id.
    const auto* carol = find(f->consumers, "carol-cid");
    QVERIFY(carol);
    QCOMPARE(carol->requests, std::uint64_t{1});
    QVERIFY(!find(f->consumers, "idle"));
  }

  void frameCountsEachTarget() {
    auto f = engine_.latestStats();
    QCOMPARE(f->targets.size(), std::size_t{2});
    const auto* a = find(f->targets, target1_);
    const auto* b = find(f->targets, target2_);
    QVERIFY(a && b);
    QCOMPARE(a->upstream, std::string("pool"));
    // Round-robin over two equal targets; the two 401s never reached one.
    QCOMPARE(a->requests + b->requests, std::uint64_t{10});
    QVERIFY(a->requests >= 4 && b->requests >= 4);
    QCOMPARE(a->status2xx, a->requests);
    QVERIFY(a->upstreamLatency10s.count == a->requests);
  }

  void statsJsonHasConsumersTargetsAndWindows() {
    QByteArray r = fetch(engine_.adminPort(), "/archway/stats");
    QVERIFY(r.startsWith("HTTP/1.1 200"));
    auto v = boost::json::parse(r.mid(r.indexOf("\r\n\r\n") + 4).toStdString()).as_object();
    const auto& consumers = v.at("consumers").as_array();
    QCOMPARE(consumers.size(), std::size_t{3});
    const auto& alice = consumers[0].as_object();
    QCOMPARE(alice.at("name").as_string(), "alice");
    QCOMPARE(alice.at("requests").as_int64(), 6);
    QCOMPARE(v.at("consumers_active").as_int64(), 3);
    for (const char* key : {"latency_ms", "latency_10s_ms", "latency_ms_10s", "latency_ms_60s",
                            "upstream_latency_ms_60s", "gateway_latency_ms_10s"}) {
      const auto& l = alice.at(key).as_object();
      QVERIFY2(l.contains("p90") && l.contains("p999") && l.contains("p99"), key);
    }
    QCOMPARE(alice.at("latency_ms_60s").as_object().at("count").as_int64(), 6);
    const auto& targets = v.at("targets").as_array();
    QCOMPARE(targets.size(), std::size_t{2});
    QCOMPARE(targets[0].as_object().at("upstream").as_string(), "pool");
    QVERIFY(targets[0].as_object().at("name").as_string() == target1_ ||
            targets[0].as_object().at("name").as_string() == target2_);
    QVERIFY(v.at("routes").as_array()[0].as_object().contains("latency_ms_60s"));
  }

  void accessLogSubscribersGetEveryLine() {
    QTRY_VERIFY_WITH_TIMEOUT(
        [this] {
          std::lock_guard lock(linesMutex_);
          return lines_.size() >= 12;
        }(),
        5000);
    std::lock_guard lock(linesMutex_);
    int alice = 0, unauthorized = 0;
    for (const auto& l : lines_) {
      if (l.find("\"consumer\":\"alice\"") != std::string::npos) ++alice;
      if (l.find("\"status\":401") != std::string::npos) ++unauthorized;
      QVERIFY(l.find("\"type\":\"access\"") != std::string::npos);
    }
    QCOMPARE(alice, 6);
    QCOMPARE(unauthorized, 2);
  }
};

QTEST_GUILESS_MAIN(EngineStatsTest)
#include "engine_stats_test.moc"
