#include <QtTest>

#include <thread>

#include "trace/recorder.h"
#include "trace/sampler.h"
#include "trace/span_names.h"
#include "trace/trace_store.h"

using namespace archway::trace;
using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

namespace {
SamplingPolicy policy(double rate, bool errors = true, std::uint32_t slowMs = 0) {
  SamplingPolicy p;
  p.rate = rate;
  p.keepServerErrors = errors;
  p.slowMs = slowMs;
  return p;
}

RequestSummary summary(int status, std::uint64_t totalUs) {
  RequestSummary s;
  s.method = "GET";
  s.path = "/x";
  s.routeName = "r";
  s.status = status;
  s.totalUs = totalUs;
  return s;
}

int keptOf(const Sampler& sampler, int n, int status, std::uint64_t totalUs) {
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    bool head = sampler.headSampled(randomTraceId(), std::nullopt);
    kept += sampler.keep(head, status, totalUs) ? 1 : 0;
  }
  return kept;
}
}  // namespace

class SamplerTest : public QObject {
  Q_OBJECT
 private slots:
  void rateZeroKeepsNothingRateOneKeepsAll() {
    Sampler none(policy(0, false));
    Sampler all(policy(1, false));
    QCOMPARE(keptOf(none, 10000, 200, 10), 0);
    QCOMPARE(keptOf(all, 10000, 200, 10), 10000);
  }

  void rateIsAppliedToTheTraceId() {
    Sampler s(policy(0.25, false));
    int kept = keptOf(s, 40000, 200, 10);
    QVERIFY2(kept > 9000 && kept < 11000, std::to_string(kept).c_str());
    // Deterministic per trace id: every service with the same rate agrees.
    TraceId id = randomTraceId();
    bool first = Sampler::ratioSampled(id, 0.25);
    for (int i = 0; i < 10; ++i) QCOMPARE(Sampler::ratioSampled(id, 0.25), first);
    TraceId low{};
    low[15] = 1;
    QVERIFY(Sampler::ratioSampled(low, 0.000001));
    TraceId high{};
    for (std::size_t i = 9; i < 16; ++i) high[i] = 0xff;
    QVERIFY(!Sampler::ratioSampled(high, 0.999));
    QVERIFY(Sampler::ratioSampled(high, 1.0));
  }

  void serverErrorsAreAlwaysKept() {
    Sampler s(policy(0, true));
    QCOMPARE(keptOf(s, 1000, 500, 10), 1000);
    QCOMPARE(keptOf(s, 1000, 503, 10), 1000);
    QCOMPARE(keptOf(s, 1000, 404, 10), 0);
    QCOMPARE(keptOf(s, 1000, 200, 10), 0);
  }

  void clientErrorsOnlyWhenAsked() {
    SamplingPolicy p = policy(0, true);
    p.keepClientErrors = true;
    Sampler s(p);
    QCOMPARE(keptOf(s, 100, 404, 10), 100);
    QCOMPARE(keptOf(s, 100, 399, 10), 0);
  }

  void slowRequestsAreKept() {
    Sampler s(policy(0, false, 250));
    QCOMPARE(keptOf(s, 100, 200, 249'999), 0);
    QCOMPARE(keptOf(s, 100, 200, 250'000), 100);
    Sampler off(policy(0, false, 0));
    QCOMPARE(keptOf(off, 100, 200, 60'000'000), 0);
  }

  void parentSampledFlagDecidesTheHead() {
    Sampler s(policy(0, false));
    TraceId id = randomTraceId();
    QVERIFY(s.headSampled(id, true));
    QVERIFY(!Sampler(policy(1, false)).headSampled(id, false));
    SamplingPolicy p = policy(0, false);
    p.respectParentSampled = false;
    QVERIFY(!Sampler(p).headSampled(id, true));
  }

  void policyChangesAtRunTime() {
    Sampler s(policy(0, false));
    QCOMPARE(keptOf(s, 100, 200, 1), 0);
    s.set(policy(1, false));
    QCOMPARE(keptOf(s, 100, 200, 1), 100);
    QCOMPARE(s.get().rate, 1.0);
  }

  // ------------------------------------------------------------------------- recorder
  void recorderStartsANewTraceWithoutTraceparent() {
    Sampler s(policy(1));
    TraceRecorder rec;
    rec.start(Clock::now(), "", s);
    QVERIFY(rec.active());
    QVERIFY(!isZero(rec.traceId()));
    QCOMPARE(rec.parentSpanId(), SpanId{0});
    QVERIFY(rec.headSampled());
    QCOMPARE(std::string(rec.traceIdHex()), toHex(rec.traceId()));
  }

  void recorderContinuesTheClientsTrace() {
    Sampler s(policy(0));
    TraceRecorder rec;
    rec.start(Clock::now(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", s);
    QCOMPARE(std::string(rec.traceIdHex()), std::string("4bf92f3577b34da6a3ce929d0e0e4736"));
    QCOMPARE(rec.parentSpanId(), SpanId{0x00f067aa0ba902b7ull});
    QVERIFY(rec.headSampled());  // the client's flag, although the rate is 0
    // The header passed upstream: same trace, a new span id of ours, the head decision.
    std::string up(rec.upstreamTraceparent());
    auto tp = parseTraceparent(up);
    QVERIFY(tp);
    QVERIFY(tp->traceId == rec.traceId());
    QCOMPARE(tp->parentId, rec.upstreamSpanId());
    QVERIFY(tp->parentId != rec.parentSpanId() && tp->parentId != rec.rootSpanId());
    QVERIFY(tp->sampled());
    // A retry gets another span id.
    std::string again(rec.upstreamTraceparent());
    QVERIFY(again != up);
  }

  void recorderIgnoresAnInvalidTraceparent() {
    Sampler s(policy(0, false));
    TraceRecorder rec;
    rec.start(Clock::now(), "00-00000000000000000000000000000000-00f067aa0ba902b7-01", s);
    QVERIFY(!isZero(rec.traceId()));
    QCOMPARE(rec.parentSpanId(), SpanId{0});
    QVERIFY(!rec.headSampled());
    auto tp = parseTraceparent(rec.upstreamTraceparent());
    QVERIFY(tp);
    QVERIFY(!tp->sampled());
  }

  void recorderRecordsSpanOffsets() {
    Sampler s(policy(1));
    TraceRecorder rec;
    auto t0 = Clock::now();
    rec.start(t0, "", s);
    rec.add(names::kReadHeaders, t0, t0 + microseconds(12));
    rec.add(names::kRoute, t0 + microseconds(12), t0 + microseconds(15));
    rec.add(names::kUpstreamFirstByte, t0 + microseconds(20), t0 + microseconds(1020),
            rec.upstreamSpanId());
    const FinishedTrace& t = rec.snapshot(summary(200, 1500));
    QCOMPARE(int(t.spanCount), 3);
    QCOMPARE(t.spans[1].name, names::kRoute);
    QCOMPARE(t.spans[1].startUs, 12u);
    QCOMPARE(t.spans[1].durationUs, 3u);
    QCOMPARE(t.spans[2].startUs, 20u);
    QCOMPARE(t.spans[2].durationUs, 1000u);
    QCOMPARE(t.durationUs, std::uint64_t{1500});
    QCOMPARE(std::string(t.route()), std::string("r"));
    // Before the start: offset 0, never a wrapped huge number.
    QCOMPARE(rec.offsetUs(t0 - microseconds(5)), 0u);
  }

  void recorderCountsSpansBeyondCapacity() {
    Sampler s(policy(1));
    TraceRecorder rec;
    rec.start(Clock::now(), "", s);
    for (std::size_t i = 0; i < FinishedTrace::kMaxSpans + 5; ++i) rec.addUs(names::kLog, 1, 1);
    const FinishedTrace& t = rec.snapshot(summary(200, 10));
    QCOMPARE(std::size_t{t.spanCount}, FinishedTrace::kMaxSpans);
    QCOMPARE(int(t.droppedSpans), 5);
    // The next request starts empty.
    rec.start(Clock::now(), "", s);
    QCOMPARE(int(rec.snapshot(summary(200, 10)).spanCount), 0);
  }

  void finishKeepsErrorsAndDropsTheRestAtRateZero() {
    Sampler s(policy(0, true, 1000));
    TraceStore store(16);
    TraceRecorder rec;
    rec.start(Clock::now(), "", s);
    QVERIFY(!rec.finish(summary(200, 100), s, store));
    rec.start(Clock::now(), "", s);
    QVERIFY(rec.finish(summary(502, 100), s, store));
    rec.start(Clock::now(), "", s);
    QVERIFY(rec.finish(summary(200, 1'000'000), s, store));
    QCOMPARE(store.recent({}).size(), std::size_t{2});
    // finish() only once per start().
    QVERIFY(!rec.finish(summary(500, 1), s, store));
    QCOMPARE(store.pushed(), std::uint64_t{2});
  }

  void snapshotHasAWallClockStart() {
    Sampler s(policy(1));
    TraceRecorder rec;
    auto before = std::chrono::system_clock::now();
    rec.start(Clock::now(), "", s);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const FinishedTrace& t = rec.snapshot(summary(200, 5000));
    auto startNs = std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch());
    QVERIFY(std::llabs(t.startUnixNs - startNs.count()) < 3'000'000);
  }
};

QTEST_GUILESS_MAIN(SamplerTest)
#include "sampler_test.moc"
