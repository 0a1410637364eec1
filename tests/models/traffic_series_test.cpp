#include <QTest>

#include "metrics/stats_frame.h"
#include "models/traffic_series.h"

using archway::models::TrafficPoint;
using archway::models::TrafficSeries;

class TrafficSeriesTest : public QObject {
  Q_OBJECT

 private slots:
  void keepsOnlyTheLastWindowOfPoints() {
    TrafficSeries series(120);
    for (int i = 0; i <= 1200; ++i) series.addPoint({i * 0.25, 1, 2, 3});  // 300 s at 4 Hz
    QCOMPARE(series.newestTime(), 300.0);
    QCOMPARE(series.points().front().t, 180.0);
    QCOMPARE(series.size(), std::size_t(481));
  }

  void chartPointsAreRelativeToTheNewestPoint() {
    TrafficSeries series(120);
    for (int i = 0; i <= 400; ++i) series.addPoint({1000 + i * 0.25, double(i), 0, 0});
    const auto points = series.rpsPoints(60);
    QCOMPARE(points.size(), 241);
    QCOMPARE(points.front().x(), -60.0);
    QCOMPARE(points.back().x(), 0.0);
    QCOMPARE(points.back().y(), 400.0);
  }

  void shorterSpanThanDataReturnsOnlyTheSpan() {
    TrafficSeries series(120);
    for (int i = 0; i < 10; ++i) series.addPoint({double(i), double(i), 0, 0});
    QCOMPARE(series.rpsPoints(3).size(), 4);
    QCOMPARE(series.rpsPoints(60).size(), 10);
    QCOMPARE(series.maxRps(3), 9.0);
  }

  void restartsWhenTheClockStepsBack() {
    TrafficSeries series(120);
    series.addPoint({100, 1, 0, 0});
    series.addPoint({101, 1, 0, 0});
    series.addPoint({50, 5, 0, 0});
    QCOMPARE(series.size(), std::size_t(1));
    QCOMPARE(series.newestTime(), 50.0);
  }

  void takesTotalsFromAFrame() {
    archway::metrics::StatsFrame frame;
    frame.timestampMs = 1'700'000'000'500;
    frame.total.rps = 42.5;
    frame.total.latency1s = {.p50 = 1.5, .p99 = 9.25, .count = 40};
    TrafficSeries series;
    series.add(frame);
    QCOMPARE(series.size(), std::size_t(1));
    QCOMPARE(series.points().back().t, 1'700'000'000.5);
    QCOMPARE(series.points().back().rps, 42.5);
    QCOMPARE(series.points().back().p50Ms, 1.5);
    QCOMPARE(series.points().back().p99Ms, 9.25);
    QCOMPARE(series.maxLatencyMs(60), 9.25);
  }

  void idleFramesHaveZeroLatency() {
    archway::metrics::StatsFrame frame;
    frame.timestampMs = 1000;
    frame.total.latency1s.p50 = 7;  // stale values with no requests behind them
    TrafficSeries series;
    series.add(frame);
    QCOMPARE(series.points().back().p50Ms, 0.0);
  }

  void emptySeriesHasNoPoints() {
    TrafficSeries series;
    QVERIFY(series.rpsPoints(60).isEmpty());
    QCOMPARE(series.maxRps(60), 0.0);
  }
};

QTEST_APPLESS_MAIN(TrafficSeriesTest)
#include "traffic_series_test.moc"
