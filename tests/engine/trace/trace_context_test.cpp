#include <QtTest>

#include <set>

#include "trace/span_names.h"
#include "trace/trace_context.h"

using namespace archway::trace;

namespace {
const std::string kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
}

class TraceContextTest : public QObject {
  Q_OBJECT
 private slots:
  void parsesVersion00() {
    auto tp = parseTraceparent(kValid);
    QVERIFY(tp);
    QCOMPARE(toHex(tp->traceId), std::string("4bf92f3577b34da6a3ce929d0e0e4736"));
    QCOMPARE(tp->parentId, SpanId{0x00f067aa0ba902b7ull});
    QCOMPARE(int(tp->flags), 1);
    QVERIFY(tp->sampled());
  }

  void parsesUnsampledAndOtherFlags() {
    auto tp = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    QVERIFY(tp);
    QVERIFY(!tp->sampled());
    tp = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09");
    QVERIFY(tp);
    QVERIFY(tp->sampled());
    QCOMPARE(int(tp->flags), 9);
  }

  void trimsSurroundingWhitespace() { QVERIFY(parseTraceparent(" \t" + kValid + " ")); }

  void rejectsInvalid_data() {
    QTest::addColumn<QString>("value");
    QTest::newRow("empty") << "";
    QTest::newRow("short") << "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0";
    QTest::newRow("v00 too long") << QString::fromStdString(kValid + "-extra");
    QTest::newRow("v00 trailing char") << QString::fromStdString(kValid + "x");
    QTest::newRow("version ff") << "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    QTest::newRow("upper-case trace id")
        << "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
    QTest::newRow("upper-case span id")
        << "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01";
    QTest::newRow("upper-case version")
        << "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    QTest::newRow("zero trace id") << "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    QTest::newRow("zero parent id") << "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01";
    QTest::newRow("bad delimiter") << "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    QTest::newRow("non-hex") << "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01";
    QTest::newRow("non-hex flags") << "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z";
    QTest::newRow("future version bad tail")
        << "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x";
  }
  void rejectsInvalid() {
    QFETCH(QString, value);
    QVERIFY(!parseTraceparent(value.toStdString()));
  }

  void acceptsFutureVersionWithMoreFields() {
    auto tp = parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what");
    QVERIFY(tp);
    QCOMPARE(tp->parentId, SpanId{0x00f067aa0ba902b7ull});
    QVERIFY(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  }

  void formatsLowerCaseVersion00() {
    auto tp = parseTraceparent(kValid);
    QVERIFY(tp);
    QCOMPARE(formatTraceparent(tp->traceId, tp->parentId, tp->flags), kValid);
    QCOMPARE(formatTraceparent(tp->traceId, 0xABCDEF0123456789ull, 0),
             std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-abcdef0123456789-00"));
    char buf[kTraceparentSize];
    formatTraceparent(tp->traceId, 1, 0xff, buf);
    QCOMPARE(std::string(buf, sizeof buf),
             std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-ff"));
  }

  void formattedRandomIdsParseBack() {
    for (int i = 0; i < 1000; ++i) {
      TraceId t = randomTraceId();
      SpanId s = randomSpanId();
      auto tp = parseTraceparent(formatTraceparent(t, s, 1));
      QVERIFY(tp);
      QVERIFY(tp->traceId == t);
      QCOMPARE(tp->parentId, s);
    }
  }

  void randomIdsAreNonZeroAndDistinct() {
    std::set<std::string> traces;
    std::set<SpanId> spans;
    for (int i = 0; i < 10000; ++i) {
      TraceId t = randomTraceId();
      QVERIFY(!isZero(t));
      traces.insert(toHex(t));
      SpanId s = randomSpanId();
      QVERIFY(s != 0);
      spans.insert(s);
    }
    QCOMPARE(traces.size(), std::size_t{10000});
    QCOMPARE(spans.size(), std::size_t{10000});
  }

  void derivedSpanIdsAreStableAndDistinct() {
    std::set<SpanId> ids;
    for (std::uint32_t i = 0; i < 64; ++i) {
      QCOMPARE(derivedSpanId(42, i), derivedSpanId(42, i));
      QVERIFY(derivedSpanId(42, i) != 0);
      ids.insert(derivedSpanId(42, i));
    }
    QCOMPARE(ids.size(), std::size_t{64});
  }

  void parsesTraceIdHexOfEitherCase() {
    auto a = parseTraceIdHex("4BF92F3577B34DA6A3CE929D0E0E4736");
    QVERIFY(a);
    QCOMPARE(toHex(*a), std::string("4bf92f3577b34da6a3ce929d0e0e4736"));
    QVERIFY(!parseTraceIdHex("4bf92f"));
    QVERIFY(!parseTraceIdHex("4bf92f3577b34da6a3ce929d0e0e473x"));
  }

  void internedNamesAreStable() {
    std::string_view a = pluginSpanName("key-auth", "access");
    QCOMPARE(std::string(a), std::string("plugin key-auth access"));
    std::string_view b = pluginSpanName("key-auth", "access");
    QCOMPARE(static_cast<const void*>(a.data()), static_cast<const void*>(b.data()));
    for (int i = 0; i < 1000; ++i) intern("filler " + std::to_string(i));
    QCOMPARE(std::string(a), std::string("plugin key-auth access"));
  }
};

QTEST_GUILESS_MAIN(TraceContextTest)
#include "trace_context_test.moc"
