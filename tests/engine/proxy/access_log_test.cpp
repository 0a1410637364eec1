// The access log: lock-free per-worker rings drained by the log thread into JSON lines, a full
// ring drops (and counts) instead of blocking, and a request through the engine lands in the
// file with its route, status and consumer.
#include <QtTest>

#include <boost/json.hpp>
#include <thread>

#include "config/declarative.h"
#include "proxy/access_log.h"
#include "runtime/engine.h"
#include "../core/log_lines.h"
#include "test_upstream.h"

using namespace archway;

namespace {

std::vector<std::string> readLines(const std::string& path) {
  return archway::testing::completeLogLines(path);
}

std::vector<std::string> waitForLines(const std::string& path, std::size_t n) {
  std::vector<std::string> lines;
  for (int i = 0; i < 300 && lines.size() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lines = readLines(path);
  }
  return lines;
}

}  // namespace

class AccessLogTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void twoWorkersWriteEveryEntryAsJson() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("access.log").toStdString();
    {
      proxy::AccessLog log(2, path, 1 << 14);
      QVERIFY(log.ok());
      auto producer = [&](int worker) {
        proxy::AccessEntry e;
        e.method.assign("GET");
        e.path.assign("/q\"uote");
        for (int i = 0; i < 5000; ++i) {
          e.status = static_cast<std::uint16_t>(200 + worker);
          while (!log.push(worker, e)) std::this_thread::yield();
        }
      };
      std::thread a(producer, 0), b(producer, 1);
      a.join();
      b.join();
    }  // the destructor writes what is queued
    auto lines = readLines(path);
    QCOMPARE(lines.size(), std::size_t(10000));
    int w0 = 0, w1 = 0;
    for (const auto& l : lines) {
      auto v = boost::json::parse(l).as_object();
      QCOMPARE(std::string(v.at("path").as_string()), std::string("/q\"uote"));
      (v.at("status").as_int64() == 200 ? w0 : w1)++;
    }
    QCOMPARE(w0, 5000);
    QCOMPARE(w1, 5000);
  }

  void aFullRingDropsAndCounts() {
    QTemporaryDir dir;
    proxy::AccessLog log(1, dir.filePath("a.log").toStdString(), 16);
    proxy::AccessEntry e;
    int accepted = 0;
    for (int i = 0; i < 10000; ++i) accepted += log.push(0, e) ? 1 : 0;
    // The log thread drains every 100 ms, so a burst this fast overflows the 16 slots.
    QVERIFY(accepted < 10000);
    QCOMPARE(log.dropped(), std::uint64_t(10000 - accepted));
  }

  void unwritableTargetIsReported() {
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    o.accessLog = "/nonexistent-dir/x/access.log";
    runtime::Engine engine;
    auto s = engine.start(o, core::Config{});
    QVERIFY(!s.ok());
    QCOMPARE(s.errors().front().path, std::string("access-log"));
  }

  void requestsThroughTheEngineAreLogged() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("access.log").toStdString();
    TestUpstream up;
    auto cfg = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: svc\n  url: http://127.0.0.1:" +
        std::to_string(up.port()) +
        "\n  routes:\n  - name: r1\n    paths: [/r]\n    plugins:\n    - name: key-auth\n"
        "consumers:\n- username: carol\n  keyauth_credentials:\n  - key: k\n");
    QVERIFY2(cfg.ok(), cfg.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    o.accessLog = path;
    runtime::Engine engine;
    QVERIFY(engine.start(o, *cfg).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/r/x", {{"apikey", "k"}}).status, 200);
    QCOMPARE(client.get("/r/x").status, 401);
    QCOMPARE(client.get("/nowhere").status, 404);
    auto lines = waitForLines(path, 3);
    QCOMPARE(lines.size(), std::size_t(3));
    auto first = boost::json::parse(lines[0]).as_object();
    QCOMPARE(first.at("status").as_int64(), std::int64_t(200));
    QCOMPARE(std::string(first.at("route").as_string()), std::string("r1"));
    QCOMPARE(std::string(first.at("service").as_string()), std::string("svc"));
    QCOMPARE(std::string(first.at("consumer").as_string()), std::string("carol"));
    QCOMPARE(std::string(first.at("method").as_string()), std::string("GET"));
    QCOMPARE(std::string(first.at("path").as_string()), std::string("/r/x"));
    QCOMPARE(boost::json::parse(lines[1]).at("status").as_int64(), std::int64_t(401));
    auto third = boost::json::parse(lines[2]).as_object();
    QCOMPARE(third.at("status").as_int64(), std::int64_t(404));
    QVERIFY(!third.contains("route"));
  }
};

QTEST_GUILESS_MAIN(AccessLogTest)
#include "access_log_test.moc"
