#include <QImage>
#include <QTest>

#include "gui/trace_waterfall.h"

using archway::gui::TraceWaterfall;
using archway::trace::FinishedTrace;

namespace {

// A 10 ms request: spans recorded in the order they ended, not started.
FinishedTrace sampleTrace() {
  FinishedTrace t;
  t.traceId[15] = 1;
  t.rootSpanId = 7;
  t.durationUs = 10000;
  t.status = 200;
  t.method.assign("GET");
  t.path.assign("/anything");
  t.routeName.assign("anything");
  const std::pair<std::string_view, std::pair<std::uint32_t, std::uint32_t>> spans[] = {
      {"route", {100, 50}},
      {"upstream first byte", {2500, 6000}},
      {"plugin key-auth access", {200, 300}},
      {"upstream connect", {1000, 1500}},
      {"log", {10000, 0}},
  };
  for (const auto& [name, times] : spans) {
    t.spans[t.spanCount].name = name;
    t.spans[t.spanCount].startUs = times.first;
    t.spans[t.spanCount].durationUs = times.second;
    ++t.spanCount;
  }
  return t;
}

}  // namespace

class TraceWaterfallTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void barExtentIsProportionalToStartAndDuration_data() {
    QTest::addColumn<qulonglong>("start");
    QTest::addColumn<qulonglong>("duration");
    QTest::addColumn<qulonglong>("total");
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("width");
    // Axis from 100 px, 1000 px long.
    QTest::newRow("whole") << 0ull << 1000ull << 1000ull << 100.0 << 1000.0;
    QTest::newRow("middle half") << 250ull << 500ull << 1000ull << 350.0 << 500.0;
    QTest::newRow("scaled") << 2000ull << 1000ull << 10000ull << 300.0 << 100.0;
    QTest::newRow("zero length shows")
        << 500ull << 0ull << 1000ull << 600.0 << TraceWaterfall::kMinBarWidth;
    QTest::newRow("zero at the end stays on the axis")
        << 1000ull << 0ull << 1000ull << 1100.0 - TraceWaterfall::kMinBarWidth
        << TraceWaterfall::kMinBarWidth;
    QTest::newRow("clamped to the axis") << 900ull << 500ull << 1000ull << 1000.0 << 100.0;
  }
  void barExtentIsProportionalToStartAndDuration() {
    QFETCH(qulonglong, start);
    QFETCH(qulonglong, duration);
    QFETCH(qulonglong, total);
    QFETCH(double, x);
    QFETCH(double, width);
    const auto e = TraceWaterfall::barExtent(start, duration, total, 100, 1000);
    QCOMPARE(e.x, x);
    QCOMPARE(e.width, width);
  }

  void tickStepIsRound_data() {
    QTest::addColumn<qulonglong>("total");
    QTest::addColumn<int>("maxTicks");
    QTest::addColumn<qulonglong>("step");
    QTest::newRow("10 ms in 8") << 10000ull << 8 << 2000ull;
    QTest::newRow("10 ms in 10") << 10000ull << 10 << 1000ull;
    QTest::newRow("52 ms in 6") << 52000ull << 6 << 10000ull;
    QTest::newRow("7 µs") << 7ull << 5 << 2ull;
    QTest::newRow("3 s in 4") << 3000000ull << 4 << 1000000ull;
  }
  void tickStepIsRound() {
    QFETCH(qulonglong, total);
    QFETCH(int, maxTicks);
    QFETCH(qulonglong, step);
    QCOMPARE(qulonglong(TraceWaterfall::tickStepUs(total, maxTicks)), step);
  }

  void formatsDurations() {
    QCOMPARE(TraceWaterfall::formatDuration(850), QStringLiteral("850 µs"));
    QCOMPARE(TraceWaterfall::formatDuration(1250), QStringLiteral("1.25 ms"));
    QCOMPARE(TraceWaterfall::formatDuration(12345), QStringLiteral("12.3 ms"));
    QCOMPARE(TraceWaterfall::formatDuration(1200000), QStringLiteral("1.20 s"));
  }

  void tickLabelsUseTheStepsUnit() {
    QCOMPARE(TraceWaterfall::formatTick(0, 5000), QStringLiteral("0"));
    QCOMPARE(TraceWaterfall::formatTick(50, 10), QStringLiteral("50 µs"));
    QCOMPARE(TraceWaterfall::formatTick(500, 100), QStringLiteral("0.5 ms"));
    QCOMPARE(TraceWaterfall::formatTick(2500, 500), QStringLiteral("2.5 ms"));
    QCOMPARE(TraceWaterfall::formatTick(10000, 5000), QStringLiteral("10 ms"));
    QCOMPARE(TraceWaterfall::formatTick(1500000, 500000), QStringLiteral("1.5 s"));
  }

  void rowsAreTheRequestThenSpansByStart() {
    TraceWaterfall w;
    QVERIFY(!w.hasTrace());
    QCOMPARE(w.rowCount(), 0);
    w.setTrace(sampleTrace());
    QVERIFY(w.hasTrace());
    QCOMPARE(w.rowCount(), 6);
    QCOMPARE(w.rowName(0), QStringLiteral("Whole request"));
    const QStringList expected = {"route", "plugin key-auth access", "upstream connect",
                                  "upstream first byte", "log"};
    for (int i = 0; i < expected.size(); ++i) QCOMPARE(w.rowName(i + 1), expected[i]);
    w.clear();
    QCOMPARE(w.rowCount(), 0);
  }

  void barsAreLaidOutOnTheTimeAxis() {
    TraceWaterfall w;
    w.setTrace(sampleTrace());
    w.resize(900, w.minimumSizeHint().height());
    const QRectF axis = w.axisRect();
    QVERIFY(axis.width() > 300);
    QCOMPARE(w.axisTotalUs(), std::uint64_t(10000));
    const double perUs = axis.width() / 10000.0;
    // The whole request spans the axis; "upstream first byte" (2.5 ms + 6 ms) its 25%..85%.
    QCOMPARE(w.barRect(0).left(), axis.left());
    QCOMPARE(w.barRect(0).width(), axis.width());
    const QRectF firstByte = w.barRect(4);
    QVERIFY(qAbs(firstByte.left() - (axis.left() + 2500 * perUs)) < 0.01);
    QVERIFY(qAbs(firstByte.width() - 6000 * perUs) < 0.01);
    // Rows go down the widget in order, and each bar sits inside its row.
    for (int i = 1; i < w.rowCount(); ++i) {
      QVERIFY(w.barRect(i).top() > w.barRect(i - 1).bottom());
      QCOMPARE(w.rowAt(w.barRect(i).center()), i);
    }
    QVERIFY(w.barRect(w.rowCount()).isNull());
    // Wider widget, wider bars: proportional to the axis, not fixed.
    w.resize(1400, w.height());
    QVERIFY(w.barRect(4).width() > firstByte.width());
  }

  void spansEndingAfterTheRequestWidenTheAxis() {
    FinishedTrace t = sampleTrace();
    t.spans[t.spanCount - 1].durationUs = 2000;  // "log" runs 2 ms past the response
    TraceWaterfall w;
    w.setTrace(t);
    QCOMPARE(w.axisTotalUs(), std::uint64_t(12000));
  }

  void followsTheWidgetPalette() {
    TraceWaterfall w;
    QPalette dark = w.palette();
    dark.setColor(QPalette::Base, QColor(0x18, 0x18, 0x18));
    dark.setColor(QPalette::Text, QColor(0xee, 0xee, 0xee));
    w.setPalette(dark);
    w.setTrace(sampleTrace());
    w.resize(900, w.minimumSizeHint().height());
    const QImage image = w.grab().toImage();
    // The background and the names follow the palette; the bars keep their colours.
    QCOMPARE(image.pixelColor(w.width() - 2, w.height() - 2), QColor(0x18, 0x18, 0x18));
    bool lightText = false;
    const QRectF names(0, w.barRect(0).top(), w.axisRect().left() - 10, w.barRect(0).height());
    for (int x = int(names.left()); x < int(names.right()) && !lightText; ++x) {
      for (int y = int(names.top()); y < int(names.bottom()) && !lightText; ++y) {
        lightText = image.pixelColor(x, y).lightness() > 200;
      }
    }
    QVERIFY(lightText);
  }

  void paintsTheBars() {
    TraceWaterfall w;
    w.setTrace(sampleTrace());
    w.resize(900, w.minimumSizeHint().height());
    const QImage image = w.grab().toImage();
    // The plugin span's bar has the plugin colour in its middle.
    const QPoint centre = w.barRect(2).center().toPoint();
    const QColor painted = image.pixelColor(centre * image.devicePixelRatio());
    QCOMPARE(painted, QColor(0x9b, 0x59, 0xd0));
  }
};

QTEST_MAIN(TraceWaterfallTest)
#include "trace_waterfall_test.moc"
