// The engine-thread-to-GUI hand-over: one delivery posted at a time, everything waiting taken
// at once and in order, only the newest `limit` kept when the GUI falls behind.
#include <QTest>

#include <thread>

#include "models/batch_queue.h"

using archway::models::BatchQueue;

class BatchQueueTest : public QObject {
  Q_OBJECT
 private slots:
  void postsOnceUntilTaken() {
    BatchQueue<int> q(10);
    QVERIFY(q.add(1));   // the caller posts a delivery
    QVERIFY(!q.add(2));  // one is already on its way
    QCOMPARE(q.take(), (std::vector<int>{1, 2}));
    QVERIFY(q.take().empty());
    QVERIFY(q.add(3));  // taken: the next value posts again
  }

  void keepsOnlyTheNewestWhenBehind() {
    BatchQueue<int> q(3);
    for (int i = 0; i < 10; ++i) q.add(i);
    QCOMPARE(q.take(), (std::vector<int>{7, 8, 9}));
  }

  void clearDropsWhatWaits() {
    BatchQueue<int> q(3);
    q.add(1);
    q.clear();
    QVERIFY(q.take().empty());
  }

  void aProducerThreadLosesNothingWithinTheLimit() {
    BatchQueue<int> q(100000);
    int posts = 0;
    std::thread producer([&] {
      for (int i = 0; i < 50000; ++i) posts += q.add(i) ? 1 : 0;
    });
    std::vector<int> got;
    while (got.size() < 50000) {
      for (int v : q.take()) got.push_back(v);
    }
    producer.join();
    for (int i = 0; i < 50000; ++i) QCOMPARE(got[static_cast<std::size_t>(i)], i);
    QVERIFY(posts >= 1);
  }
};

QTEST_GUILESS_MAIN(BatchQueueTest)
#include "batch_queue_test.moc"
