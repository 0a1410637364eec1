// A replaced snapshot is freed once nothing holds it, on the retirer's thread, not on the thread
// that dropped the last other reference (a worker, in the engine).
#include <QtTest>

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/retired_snapshots.h"

using namespace archway;

namespace {

struct Freed {
  std::atomic<bool> done{false};
  std::thread::id on;
};

// A snapshot that records where it was freed.
std::shared_ptr<const proxy::Snapshot> tracked(Freed& freed) {
  return std::shared_ptr<const proxy::Snapshot>(new proxy::Snapshot,
                                                [&freed](const proxy::Snapshot* s) {
                                                  delete s;
                                                  freed.on = std::this_thread::get_id();
                                                  freed.done = true;
                                                });
}

// Polls until `done` (at most ~10 s; the test fails then, it does not time anything).
bool eventually(const std::atomic<bool>& done) {
  for (int i = 0; i < 1000 && !done; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done;
}

}  // namespace

class RetiredSnapshotsTest : public QObject {
  Q_OBJECT
 private slots:
  void freedOffTheHoldersThreadOnceUnused() {
    Freed freed;
    runtime::RetiredSnapshots retired;
    auto snapshot = tracked(freed);
    std::shared_ptr<const proxy::Snapshot> held = snapshot;  // a request still on it
    retired.retire(std::move(snapshot));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    QVERIFY(!freed.done);  // still held
    QCOMPARE(retired.waiting(), std::size_t{1});
    held.reset();  // the "worker" lets go: not the last reference any more
    QVERIFY(eventually(freed.done));
    QVERIFY(freed.on != std::this_thread::get_id());
    QCOMPARE(retired.waiting(), std::size_t{0});
  }

  // The freeing thread is stuck (here: in a deleter that waits; in production: starved at
  // nice 19 on a busy machine): past kBacklog waiting, retire() frees the unused ones itself.
  void aBacklogIsFreedByTheRetiringThread() {
    std::atomic<bool> inDeleter{false}, release{false};
    runtime::RetiredSnapshots retired;
    retired.retire(std::shared_ptr<const proxy::Snapshot>(
        new proxy::Snapshot, [&](const proxy::Snapshot* s) {
          inDeleter = true;
          while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          delete s;
        }));
    QVERIFY(eventually(inDeleter));  // the freeing thread is busy from now on
    Freed f[runtime::RetiredSnapshots::kBacklog + 1];
    for (auto& one : f) retired.retire(tracked(one));
    for (auto& one : f) {
      QVERIFY(one.done);
      QVERIFY(one.on == std::this_thread::get_id());
    }
    QCOMPARE(retired.waiting(), std::size_t{0});
    release = true;
  }

  void whatIsLeftIsFreedWithTheRetirer() {
    Freed a, b;
    auto held = tracked(b);
    {
      runtime::RetiredSnapshots retired;
      retired.retire(tracked(a));
      retired.retire(held);
      retired.retire(nullptr);  // ignored
    }
    QVERIFY(a.done);
    QVERIFY(!b.done);  // still ours
    held.reset();
    QVERIFY(b.done);
  }
};

QTEST_APPLESS_MAIN(RetiredSnapshotsTest)
#include "retired_snapshots_test.moc"
