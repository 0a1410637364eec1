// The engine API the console uses for load tests: progress while running, cancel, and
// results kept so runs can be compared.
#include <QtTest>

#include <atomic>

#include "config/declarative.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"

using namespace archway;

class EngineLoadTest : public QObject {
  Q_OBJECT
 private:
  demo::DemoServer demo_;
  runtime::Engine engine_;

  loadgen::Plan plan(double rate, std::chrono::milliseconds duration) {
    loadgen::Plan p;
    p.url = "http://127.0.0.1:" + std::to_string(engine_.proxyPort()) + "/anything";
    p.connections = 4;
    p.threads = 1;
    p.rate = rate;
    p.duration = duration;
    return p;
  }

 private slots:
  void initTestCase() {
    auto port = demo_.start("127.0.0.1", 0);
    QVERIFY(port.ok());
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: demo\n  url: http://127.0.0.1:" +
        std::to_string(*port) +
        "\n  routes: [{name: anything, paths: [/anything], strip_path: false}]\n");
    QVERIFY(c.ok());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    QVERIFY(engine_.start(o, std::move(*c)).ok());
  }
  void cleanupTestCase() {
    engine_.stop();
    demo_.stop();
  }

  void reportsProgressAndKeepsTheResult() {
    std::atomic<int> ticks{0};
    std::atomic<std::uint64_t> seen{0};
    auto test = engine_.runLoadTest(plan(200, std::chrono::milliseconds(1500)),
                                    [&](const loadgen::Progress& p) {
                                      ++ticks;
                                      seen += p.requests;
                                    });
    auto result = test->wait();
    QVERIFY(test->done());
    QVERIFY(ticks.load() >= 4);  // every 250 ms
    QCOMPARE(seen.load(), result->report.requests);
    QVERIFY(result->report.requests > 200);
    QCOMPARE(result->report.errors.total(), std::uint64_t{0});
    auto kept = engine_.loadTestResults();
    QVERIFY(!kept.empty());
    QCOMPARE(kept.back()->id, test->id());
  }

  void cancelStopsARunAndItIsStillKept() {
    const auto before = engine_.loadTestResults().size();
    auto test = engine_.runLoadTest(plan(100, std::chrono::seconds(60)));
    QTest::qWait(300);
    test->cancel();
    auto result = test->wait();
    QVERIFY(result->report.cancelled);
    QVERIFY(result->report.durationS < 30);
    QCOMPARE(engine_.loadTestResults().size(), before + 1);
  }

  void runsCanBeCompared() {
    auto slow = engine_.runLoadTest(plan(50, std::chrono::milliseconds(1000)))->wait();
    auto fast = engine_.runLoadTest(plan(150, std::chrono::milliseconds(1000)))->wait();
    QVERIFY(fast->report.requests > slow->report.requests);
    QVERIFY(fast->id > slow->id);
  }
};

QTEST_GUILESS_MAIN(EngineLoadTest)
#include "engine_load_test.moc"
