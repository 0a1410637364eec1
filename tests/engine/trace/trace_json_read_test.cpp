// parseTraces reads back what renderTraces writes (GET /archway/traces of a remote node).
#include <QtTest>

#include <boost/json/serialize.hpp>

#include "trace/span_names.h"
#include "trace/trace_json.h"
#include "trace/trace_json_read.h"

using namespace archway::trace;

class TraceJsonReadTest : public QObject {
  Q_OBJECT
 private slots:
  void readsBackWhatRenderTracesWrites() {
    FinishedTrace t;
    t.traceId = randomTraceId();
    t.rootSpanId = 7;
    t.parentSpanId = 0x0123456789abcdefULL;
    t.startUnixNs = 1700000000123LL * 1000000;
    t.durationUs = 12345;
    t.status = 503;
    t.upstreamStatus = 502;
    t.droppedSpans = 2;
    t.method.assign("POST");
    t.path.assign("/cart/items?id=1");
    t.routeName.assign("cart");
    t.serviceName.assign("shop");
    t.spans[0] = {names::kRoute, 10, 20, 0};
    t.spans[1] = {pluginSpanName("key-auth", "access"), 30, 400, 0};
    t.spanCount = 2;
    FinishedTrace bare;
    bare.traceId = randomTraceId();
    bare.status = 200;

    auto parsed = parseTraces(renderTraces({t, bare}));
    QVERIFY2(parsed.ok(), parsed.errorText().c_str());
    QCOMPARE(parsed->size(), std::size_t(2));
    const FinishedTrace& g = (*parsed)[0];
    QCOMPARE(toHex(g.traceId), toHex(t.traceId));
    QCOMPARE(g.parentSpanId, t.parentSpanId);
    QCOMPARE(g.startUnixNs, t.startUnixNs);
    QCOMPARE(g.durationUs, t.durationUs);
    QCOMPARE(g.status, t.status);
    QCOMPARE(g.upstreamStatus, t.upstreamStatus);
    QCOMPARE(g.droppedSpans, t.droppedSpans);
    QCOMPARE(g.method.view(), std::string_view("POST"));
    QCOMPARE(g.path.view(), t.path.view());
    QCOMPARE(g.route(), std::string_view("cart"));
    QCOMPARE(g.serviceName.view(), std::string_view("shop"));
    QCOMPARE(g.spanCount, std::uint16_t(2));
    QCOMPARE(g.spans[1].name, std::string_view("plugin key-auth access"));
    // Interned: the same storage as the recorder's name.
    QCOMPARE(static_cast<const void*>(g.spans[1].name.data()),
             static_cast<const void*>(t.spans[1].name.data()));
    QCOMPARE(g.spans[1].startUs, 30u);
    QCOMPARE(g.spans[1].durationUs, 400u);
    const FinishedTrace& b = (*parsed)[1];
    QCOMPARE(b.status, std::uint16_t(200));
    QVERIFY(b.route().empty());
    QCOMPARE(b.upstreamStatus, std::uint16_t(0));
    QCOMPARE(b.parentSpanId, SpanId(0));
  }

  void otherShapesAreErrorsAndBadEntriesAreSkipped() {
    QVERIFY(!parseTraces("").ok());
    QVERIFY(!parseTraces("[]").ok());
    QVERIFY(!parseTraces("{\"data\": 5}").ok());
    auto r = parseTraces(
        "{\"data\": [7, {\"id\": \"nothex\"}, {\"id\": "
        "\"0123456789abcdef0123456789abcdef\", \"status\": 404, \"path\": \"" +
        std::string(300, 'p') + "\"}]}");
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(r->size(), std::size_t(1));
    QCOMPARE((*r)[0].status, std::uint16_t(404));
    QCOMPARE((*r)[0].path.view().size(), std::size_t(256));
  }

  // GET /archway/tracing's shape: what toJson writes reads back field for field.
  void samplingPolicyRoundTrips() {
    SamplingPolicy p;
    p.enabled = false;
    p.rate = 0.25;
    p.slowMs = 1234;
    p.keepServerErrors = false;
    p.keepClientErrors = true;
    p.respectParentSampled = false;
    auto back = parseSamplingPolicy(boost::json::serialize(toJson(p)));
    QVERIFY(back);
    QCOMPARE(back->enabled, false);
    QCOMPARE(back->rate, 0.25);
    QCOMPARE(back->slowMs, 1234u);
    QCOMPARE(back->keepServerErrors, false);
    QCOMPARE(back->keepClientErrors, true);
    QCOMPARE(back->respectParentSampled, false);
    // Missing flags keep their defaults; the numbers are required.
    auto partial = parseSamplingPolicy(R"({"sample_rate": 1, "slow_ms": 0})");
    QVERIFY(partial);
    QCOMPARE(partial->respectParentSampled, SamplingPolicy{}.respectParentSampled);
    QVERIFY(!parseSamplingPolicy(R"({"slow_ms": 0})"));
    QVERIFY(!parseSamplingPolicy(R"({"sample_rate": "x", "slow_ms": 0})"));
    QVERIFY(!parseSamplingPolicy(R"({"sample_rate": 1, "slow_ms": -1})"));
    QVERIFY(!parseSamplingPolicy("[]"));
  }
};

QTEST_GUILESS_MAIN(TraceJsonReadTest)
#include "trace_json_read_test.moc"
