// fault-injection through the real proxy: an injected abort never reaches the upstream, an
// injected delay holds the request without holding the worker (two delayed requests on one
// worker finish together).
#include <QtTest>
#include <chrono>
#include <thread>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;
using Clock = std::chrono::steady_clock;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: broken\n"
    "    paths: [/broken]\n"
    "    plugins:\n"
    "    - name: fault-injection\n"
    "      config: {abort: {percentage: 100, status: 502}}\n"
    "  - name: slow\n"
    "    paths: [/slow]\n"
    "    plugins:\n"
    "    - name: fault-injection\n"
    "      config: {delay: {percentage: 100, duration_ms: 500}}\n"
    "  - name: healthy\n"
    "    paths: [/healthy]\n"
    "    plugins:\n"
    "    - name: fault-injection\n"
    "      config: {abort: {percentage: 0}, delay: {percentage: 0, duration_ms: 5000}}\n";

}  // namespace

class FaultInjectionProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void abortAnswersWithoutTheUpstream() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/broken/x");
    QCOMPARE(r.status, 502);
    QCOMPARE(r.body, std::string("{\"message\":\"Bad Gateway\"}"));
    QCOMPARE(gw.upstream().requests(), 0);
  }

  void zeroPercentChangesNothing() {
    Gateway gw(kYaml);
    auto start = Clock::now();
    QCOMPARE(gw.send("GET", "/healthy/x").status, 200);
    QVERIFY(Clock::now() - start < std::chrono::milliseconds(2000));
  }

  void delayDoesNotHoldTheWorker() {
    Gateway gw(kYaml, 1);
    auto start = Clock::now();
    int statusA = 0, statusB = 0;
    std::thread a([&] { statusA = gw.send("GET", "/slow/a").status; });
    std::thread b([&] { statusB = gw.send("GET", "/slow/b").status; });
    a.join();
    b.join();
    auto elapsed = Clock::now() - start;
    QCOMPARE(statusA, 200);
    QCOMPARE(statusB, 200);
    QVERIFY(elapsed >= std::chrono::milliseconds(500));
    // Serialised they would take 1000 ms.
    QVERIFY2(elapsed < std::chrono::milliseconds(900),
             qPrintable(QString::number(
                 std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count())));
    QCOMPARE(gw.upstream().requests(), 2);
  }
};

QTEST_GUILESS_MAIN(FaultInjectionProxyTest)
#include "fault_injection_proxy_test.moc"
