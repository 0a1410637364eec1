// The bounded MPMC ring under the error log: a full ring refuses at once (the caller drops),
// concurrent producers lose nothing, and each producer's values come out in the order it pushed.
#include <QtTest>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/mpmc_queue.h"

using archway::core::MpmcQueue;

namespace {

// Producer id in the high 32 bits, its sequence number in the low ones.
std::uint64_t tag(std::uint64_t producer, std::uint64_t seq) {
  return producer << 32 | seq;
}

}  // namespace

class MpmcQueueTest : public QObject {
  Q_OBJECT
 private slots:
  void capacityIsRoundedUpToAPowerOfTwo() {
    QCOMPARE(MpmcQueue<int>(0).capacity(), std::size_t(2));
    QCOMPARE(MpmcQueue<int>(5).capacity(), std::size_t(8));
    QCOMPARE(MpmcQueue<int>(64).capacity(), std::size_t(64));
  }

  void aFullQueueRefusesAndLeavesTheValueAlone() {
    MpmcQueue<std::string> q(4);
    for (int i = 0; i < 4; ++i) {
      std::string v = "v" + std::to_string(i);
      QVERIFY(q.tryPush(v));
    }
    std::string extra = "extra";
    QVERIFY(!q.tryPush(extra));
    QCOMPARE(extra, std::string("extra"));
    QCOMPARE(q.pushed(), std::uint64_t(4));
    std::string out;
    QVERIFY(q.tryPop(out));
    QCOMPARE(out, std::string("v0"));
    QVERIFY(q.tryPush(extra));  // one slot free again
  }

  void anEmptyQueuePopsNothing() {
    MpmcQueue<int> q(4);
    int out = 7;
    QVERIFY(!q.readable());
    QVERIFY(!q.tryPop(out));
    QCOMPARE(out, 7);
    int v = 1;
    QVERIFY(q.tryPush(v));
    QVERIFY(q.readable());
  }

  void wrapsAroundInOrder() {
    MpmcQueue<int> q(4);
    int out = 0;
    for (int i = 0; i < 1000; ++i) {
      int v = i;
      QVERIFY(q.tryPush(v));
      QVERIFY(q.tryPop(out));
      QCOMPARE(out, i);
    }
  }

  void concurrentProducersLoseNothingAndKeepTheirOrder() {
    constexpr int kProducers = 4;
    constexpr std::uint64_t kEach = 50000;
    MpmcQueue<std::uint64_t> q(64);  // small: producers hit a full ring often
    std::atomic<int> running{kProducers};
    std::atomic<std::uint64_t> refused{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (std::uint64_t i = 0; i < kEach; ++i) {
          std::uint64_t v = tag(static_cast<std::uint64_t>(p), i);
          while (!q.tryPush(v)) {
            refused.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::yield();
          }
        }
        running.fetch_sub(1);
      });
    }
    std::vector<std::uint64_t> next(kProducers, 0);
    bool ordered = true;
    std::uint64_t total = 0, v = 0;
    while (running.load() > 0 || q.readable()) {
      if (!q.tryPop(v)) {
        std::this_thread::yield();
        continue;
      }
      const auto p = static_cast<std::size_t>(v >> 32);
      ordered = ordered && (v & 0xffffffffu) == next[p];
      next[p] = (v & 0xffffffffu) + 1;
      ++total;
    }
    for (auto& t : producers) t.join();
    while (q.tryPop(v)) ++total;
    QVERIFY(ordered);
    QCOMPARE(total, kProducers * kEach);
    for (int p = 0; p < kProducers; ++p) QCOMPARE(next[static_cast<std::size_t>(p)], kEach);
    QCOMPARE(q.pushed(), kProducers * kEach);
  }

  void concurrentConsumersTakeEachValueOnce() {
    constexpr std::uint64_t kValues = 100000;
    MpmcQueue<std::uint64_t> q(128);
    std::vector<std::atomic<int>> seen(kValues);
    std::atomic<bool> done{false};
    auto consume = [&] {
      std::uint64_t v;
      while (!done.load() || q.readable()) {
        if (q.tryPop(v))
          seen[v].fetch_add(1);
        else
          std::this_thread::yield();
      }
    };
    std::thread c1(consume), c2(consume);
    std::thread p1([&] {
      for (std::uint64_t i = 0; i < kValues; i += 2)
        for (std::uint64_t v = i; !q.tryPush(v);) std::this_thread::yield();
    });
    std::thread p2([&] {
      for (std::uint64_t i = 1; i < kValues; i += 2)
        for (std::uint64_t v = i; !q.tryPush(v);) std::this_thread::yield();
    });
    p1.join();
    p2.join();
    done.store(true);
    c1.join();
    c2.join();
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    QCOMPARE(wrong, 0);
  }
};

QTEST_GUILESS_MAIN(MpmcQueueTest)
#include "mpmc_queue_test.moc"
