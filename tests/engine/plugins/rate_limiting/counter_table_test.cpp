// The local policy's lock-free counter table: exact limits under concurrent threads, window
// rollover in one atomic step, give-back, reuse of idle slots, a full table; and Kong's
// window boundaries.
#include <QtTest>
#include <atomic>
#include <thread>
#include <vector>

#include "plugins/rate_limiting/counter_table.h"
#include "plugins/rate_limiting/windows.h"

using namespace archway::plugins::ratelimit;

namespace {

// 2024-02-29T13:45:30Z: a leap day, mid-minute.
constexpr std::int64_t kLeapDay = 1709214330;

}  // namespace

class CounterTableTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void countsUpToTheLimitThenRefuses() {
    CounterTable t(1024);
    for (int i = 0; i < 3; ++i) {
      auto r = t.take(42, 100, 160, 3, 100);
      QVERIFY(r.taken);
      QCOMPARE(r.prior, std::uint64_t(i));
    }
    auto refused = t.take(42, 100, 160, 3, 100);
    QVERIFY(!refused.taken);
    QVERIFY(!refused.full);
    QCOMPARE(refused.prior, std::uint64_t(3));
    QCOMPARE(t.peek(42, 100), std::uint64_t(3));
    QCOMPARE(t.peek(43, 100), std::uint64_t(0));
  }

  void fractionalLimitFollowsKong() {
    // Kong refuses when limit - usage <= 0: 2.5 lets three requests through.
    CounterTable t(1024);
    int taken = 0;
    for (int i = 0; i < 5; ++i) taken += t.take(7, 0, 60, 2.5, 0).taken ? 1 : 0;
    QCOMPARE(taken, 3);
  }

  void newWindowStartsAtZero() {
    CounterTable t(1024);
    QVERIFY(t.take(1, 60, 120, 1, 60).taken);
    QVERIFY(!t.take(1, 60, 120, 1, 61).taken);
    auto next = t.take(1, 120, 180, 1, 120);
    QVERIFY(next.taken);
    QCOMPARE(next.prior, std::uint64_t(0));
    QCOMPARE(t.peek(1, 60), std::uint64_t(1));  // the slot moved on: old window reads its count
    QCOMPARE(t.peek(1, 180), std::uint64_t(0));
    // A thread whose clock is a moment behind counts in the newer window.
    QVERIFY(!t.take(1, 60, 120, 1, 119).taken);
  }

  void untakeGivesBack() {
    CounterTable t(1024);
    QVERIFY(t.take(5, 0, 60, 2, 0).taken);
    QVERIFY(t.take(5, 0, 60, 2, 0).taken);
    QVERIFY(!t.take(5, 0, 60, 2, 0).taken);
    t.untake(5, 0);
    QCOMPARE(t.peek(5, 0), std::uint64_t(1));
    QVERIFY(t.take(5, 0, 60, 2, 0).taken);
    t.untake(5, 60);  // another window: nothing to give back
    QCOMPARE(t.peek(5, 0), std::uint64_t(2));
  }

  void concurrentThreadsNeverPassTheLimit() {
    CounterTable t(1 << 12);
    constexpr int kThreads = 8, kEach = 20000, kKeys = 16;
    constexpr double kLimit = 9000;
    std::atomic<int> taken[kKeys] = {};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
      threads.emplace_back([&, th] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < kEach; ++i) {
          const int k = (i + th) % kKeys;
          if (t.take(static_cast<std::uint64_t>(k) * 0x9e3779b97f4a7c15ull, 600, 660, kLimit, 600)
                  .taken)
            taken[k].fetch_add(1);
        }
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    // 8 * 20000 / 16 = 10000 attempts per key, most of them racing compare-and-swaps,
    // against a limit of 9000: exactly 9000 each.
    for (int k = 0; k < kKeys; ++k) {
      QCOMPARE(taken[k].load(), 9000);
      QCOMPARE(t.peek(static_cast<std::uint64_t>(k) * 0x9e3779b97f4a7c15ull, 600),
               std::uint64_t(9000));
    }
  }

  void concurrentRolloverNeverCountsOverTheLimit() {
    // Threads race across window boundaries (each thread's clock is its own loop counter).
    // A thread that falls behind counts into the newest window its slot holds, so which
    // window a take lands in is the table's business: what must hold is that no take ever
    // finds the limit already reached (prior < limit), and no more than the limit per window
    // is handed out in total.
    CounterTable t(1 << 10);
    constexpr int kThreads = 6, kWindows = 50, kLimit = 40;
    std::atomic<int> total{0}, overLimit{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int w = 0; w < kWindows; ++w) {
          for (int i = 0; i < 100; ++i) {
            auto r = t.take(99, 1000 + w, 1001 + w, kLimit, 1000 + w);
            if (!r.taken) continue;
            total.fetch_add(1);
            if (r.prior >= static_cast<std::uint64_t>(kLimit)) overLimit.fetch_add(1);
          }
        }
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    QCOMPARE(overLimit.load(), 0);
    QVERIFY(total.load() <= kLimit * kWindows);
    // Each window gets 600 attempts; even run one thread after another every window fills.
    QVERIFY2(total.load() >= kLimit * kWindows / 2, qPrintable(QString::number(total.load())));
  }

  void idleSlotsAreReused() {
    CounterTable t(64);  // the minimum: one probe range
    for (std::uint64_t k = 0; k < 64; ++k) QVERIFY(t.take(k + 1000, 0, 1, 5, 0).taken);
    // Every slot is live: a new key has nowhere to go.
    auto full = t.take(5000, 0, 1, 5, 0);
    QVERIFY(full.full);
    QVERIFY(!full.taken);
    // Past the windows' end and the grace, the slots may be given to other keys.
    const std::int64_t later = 1 + CounterTable::kGraceSeconds + 1;
    auto reused = t.take(5000, later, later + 1, 5, later);
    QVERIFY(reused.taken);
    QCOMPARE(reused.prior, std::uint64_t(0));
    QCOMPARE(t.peek(5000, later), std::uint64_t(1));
  }

  void idleKeyComesBackToItsOwnSlot() {
    CounterTable t(64);
    // Fill the probe range with keys 1..64 at time 0; key 64 comes back long after.
    for (std::uint64_t k = 1; k <= 64; ++k) QVERIFY(t.take(k, 0, 1, 100, 0).taken);
    const std::int64_t later = 100;
    QVERIFY(t.take(64, later, later + 1, 100, later).taken);
    // Key 64 again: the slot it rolled over, not another reusable one.
    auto again = t.take(64, later, later + 1, 100, later);
    QVERIFY(again.taken);
    QCOMPARE(again.prior, std::uint64_t(1));
  }

  void windowsFollowKongTimestamps() {
    auto w = windowsAt(kLeapDay);
    QCOMPARE(w[0].start, kLeapDay);
    QCOMPARE(w[0].end, kLeapDay + 1);
    QCOMPARE(w[1].start, std::int64_t(1709214300));  // 13:45:00
    QCOMPARE(w[2].start, std::int64_t(1709211600));  // 13:00:00
    QCOMPARE(w[3].start, std::int64_t(1709164800));  // 2024-02-29T00:00:00Z
    QCOMPARE(w[3].end, std::int64_t(1709251200));    // 2024-03-01
    QCOMPARE(w[4].start, std::int64_t(1706745600));  // 2024-02-01
    QCOMPARE(w[4].end, std::int64_t(1709251200));    // 2024-03-01: 29 days
    QCOMPARE(w[5].start, std::int64_t(1704067200));  // 2024-01-01
    QCOMPARE(w[5].end, std::int64_t(1735689600));    // 2025-01-01
    // December rolls into the next year.
    auto dec = windowsAt(1735600000);                  // 2024-12-30T23:06:40Z
    QCOMPARE(dec[4].start, std::int64_t(1733011200));  // 2024-12-01
    QCOMPARE(dec[4].end, std::int64_t(1735689600));    // 2025-01-01
  }
};

QTEST_GUILESS_MAIN(CounterTableTest)
#include "counter_table_test.moc"
