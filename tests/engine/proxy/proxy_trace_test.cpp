// Tracing through the real proxy: the client's W3C traceparent is continued and passed
// upstream, spans cover the phases (plugins named after the plugin), errors are always kept,
// slow requests are kept, and the Admin API lists the traces.
#include <QtTest>

#include <thread>

#include "../net/closed_port.h"
#include "config/declarative.h"
#include "runtime/engine.h"
#include "test_upstream.h"
#include "trace/trace_json.h"

using namespace archway;

namespace {

core::Config configFor(unsigned short port) {
  std::string yaml =
      "_format_version: '3.0'\n"
      "services:\n"
      "- name: svc\n"
      "  url: http://127.0.0.1:" + std::to_string(port) + "\n"
      "  retries: 0\n"
      "  routes:\n"
      "  - name: traced\n"
      "    paths: [/t]\n"
      "    plugins:\n"
      "    - name: correlation-id\n";
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  return std::move(*c);
}

runtime::EngineOptions options(double rate, std::uint32_t slowMs = 1000) {
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "127.0.0.1:0";
  o.workers = 1;
  o.tracingSampleRate = rate;
  o.tracingSlowMs = slowMs;
  return o;
}

std::vector<std::string> spanNames(const trace::FinishedTrace& t) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < t.spanCount; ++i) names.emplace_back(t.spans[i].name);
  return names;
}

// The worker ends a trace after the response left, so a client can look before it is kept.
std::vector<trace::FinishedTrace> waitForTraces(const runtime::Engine& engine, std::size_t n) {
  std::vector<trace::FinishedTrace> traces;
  for (int i = 0; i < 200; ++i) {
    traces = engine.recentTraces({});
    if (traces.size() >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return traces;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

class ProxyTraceTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void continuesTheClientTraceAndRecordsSpans() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(options(1.0), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    const std::string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    auto r = client.get("/t/x", {{"traceparent", "00-" + traceId + "-00f067aa0ba902b7-01"}});
    QCOMPARE(r.status, 200);
    const std::string sent = up.last().headers["traceparent"];
    QCOMPARE(sent.substr(0, 35), "00-" + traceId);
    QVERIFY(sent.find("00f067aa0ba902b7") == std::string::npos);  // our span is the parent now

    auto traces = waitForTraces(engine, 1);
    QCOMPARE(traces.size(), std::size_t(1));
    const auto& t = traces[0];
    QCOMPARE(t.status, std::uint16_t(200));
    auto names = spanNames(t);
    for (const char* want : {"read headers", "route", "plugin correlation-id access",
                             "upstream connect", "upstream first byte", "response body"}) {
      QVERIFY2(has(names, want), want);
    }
    // The Admin API serves the same trace, by id and in the filtered list.
    TestClient admin(engine.adminPort());
    auto one = admin.get("/archway/traces/" + traceId);
    QCOMPARE(one.status, 200);
    QVERIFY(one.body.find("\"spans\"") != std::string::npos);
    auto list = admin.get("/archway/traces?route=traced&status=200");
    QCOMPARE(list.status, 200);
    QVERIFY(list.body.find(traceId) != std::string::npos);
    QCOMPARE(admin.get("/archway/traces?limit=0").status, 400);
  }

  void errorsAreKeptAtRateZero() {
    TestUpstream up;
    archway::testing::ClosedPort closed;
    runtime::Engine engine;
    QVERIFY(engine.start(options(0.0), configFor(closed.port())).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/t/a").status, 502);
    auto traces = waitForTraces(engine, 1);
    QCOMPARE(traces.size(), std::size_t(1));
    QCOMPARE(traces[0].status, std::uint16_t(502));
    QVERIFY(has(spanNames(traces[0]), "upstream connect"));
  }

  void okRequestsAreDroppedAtRateZeroUnlessSlow() {
    TestUpstream up;
    runtime::Engine engine;
    QVERIFY(engine.start(options(0.0, 100), configFor(up.port())).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/t/fast").status, 200);
    QCOMPARE(client.get("/t/sleep/250").status, 200);
    // The fast request ended before the slow one started: only the slow one is kept.
    auto traces = waitForTraces(engine, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    traces = engine.recentTraces({});
    QCOMPARE(traces.size(), std::size_t(1));
    QVERIFY(traces[0].durationUs >= 200000);
  }
};

QTEST_GUILESS_MAIN(ProxyTraceTest)
#include "proxy_trace_test.moc"
