#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "metrics/histogram.h"

using namespace archway::metrics;

class HistogramTest : public QObject {
  Q_OBJECT
 private slots:
  void bucketsCoverTheRangeInOrder() {
    int prev = -1;
    for (std::uint64_t v :
         {0ull, 1ull, 127ull, 128ull, 129ull, 1000ull, 65535ull, 1000000ull, 60000000ull}) {
      int i = bucketIndex(v);
      QVERIFY(i >= prev);  // 128 and 129 share a bucket of width 2
      QVERIFY(i < kBuckets);
      auto r = bucketRange(i);
      QVERIFY2(v >= r.low && v < r.low + r.width, qPrintable(QString::number(v)));
      prev = i;
    }
  }

  // Percentiles within 1% of the exact percentiles of the recorded samples, 1 us to 60 s.
  void percentilesWithinOnePercent() {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(7.0, 2.5);  // us, spread over many decades
    std::vector<std::uint64_t> samples;
    Histogram h;
    for (int i = 0; i < 200000; ++i) {
      auto v = static_cast<std::uint64_t>(std::clamp(dist(rng), 1.0, 60e6));
      samples.push_back(v);
      h.record(v);
    }
    std::sort(samples.begin(), samples.end());
    for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
      auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size()))) - 1;
      double exact = static_cast<double>(samples[rank]);
      double got = h.percentileUs(q);
      QVERIFY2(std::abs(got - exact) <= exact * 0.01 + 0.5,
               qPrintable(QString("q=%1 exact=%2 got=%3").arg(q).arg(exact).arg(got)));
    }
    QCOMPARE(h.maxUs(), samples.back());
    QCOMPARE(h.count(), std::uint64_t{200000});
  }

  void emptyHistogramReportsZero() {
    Histogram h;
    QCOMPARE(h.percentileUs(0.99), 0.0);
    QCOMPARE(h.meanUs(), 0.0);
  }

  void shardDrainReturnsOnlyNewSamples() {
    ShardHistogram s;
    for (int i = 0; i < 100; ++i) s.record(1000);
    SparseHistogram first;
    s.drainInto(first);
    QCOMPARE(first.count, std::uint64_t{100});
    for (int i = 0; i < 10; ++i) s.record(5000);
    SparseHistogram delta;
    s.drainInto(delta);
    Histogram second;
    second.add(delta);
    QCOMPARE(second.count(), std::uint64_t{10});
    QVERIFY(std::abs(second.percentileUs(0.5) - 5000) <= 50);
    QCOMPARE(second.maxUs(), std::uint64_t{5000});
    SparseHistogram third;
    s.drainInto(third);
    QCOMPARE(third.count, std::uint64_t{0});
    QVERIFY(third.buckets.empty());
  }

  // The stats thread takes window percentiles from per-worker sparse deltas; they must equal
  // the dense histogram's.
  void sparsePercentilesMatchDense() {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(6.0, 2.0);
    ShardHistogram shards[3];
    Histogram dense;
    for (int i = 0; i < 30000; ++i) {
      auto v = static_cast<std::uint64_t>(std::clamp(dist(rng), 1.0, 60e6));
      shards[i % 3].record(v);
      dense.record(v);
    }
    SparseHistogram parts[3];
    for (int s = 0; s < 3; ++s) shards[s].drainInto(parts[s]);
    const SparseHistogram* ptrs[] = {&parts[0], &parts[1], &parts[2]};
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    double got[4];
    std::uint64_t count, sum, max;
    sparsePercentiles(ptrs, 3, qs, 4, got, count, sum, max);
    QCOMPARE(count, dense.count());
    QCOMPARE(sum, dense.sumUs());
    QCOMPARE(max, dense.maxUs());
    for (int k = 0; k < 4; ++k) QCOMPARE(got[k], dense.percentileUs(qs[k]));
  }

  void sparseRoundTrip() {
    Histogram h;
    h.record(10);
    h.record(10000, 3);
    Histogram back;
    back.add(h.sparse());
    QCOMPARE(back.count(), h.count());
    QCOMPARE(back.percentileUs(0.9), h.percentileUs(0.9));
    QCOMPARE(back.maxUs(), h.maxUs());
  }
};

QTEST_GUILESS_MAIN(HistogramTest)
#include "histogram_test.moc"
