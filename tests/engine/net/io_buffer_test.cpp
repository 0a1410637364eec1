// net::IoBuffer and net::BufferPool: storage taken from the pool on need and given back when
// empty, growth into owned storage that keeps the unread bytes, the pool's bound on free
// buffers.
#include <QtTest>

#include <cstring>
#include <memory>
#include <string>

#include "net/io_buffer.h"

using archway::net::BufferPool;
using archway::net::IoBuffer;

namespace {

void put(IoBuffer& b, const std::string& s) {
  QVERIFY(b.spaceSize() >= s.size());
  std::memcpy(b.space(), s.data(), s.size());
  b.produced(s.size());
}

std::string contents(const IoBuffer& b) { return std::string(b.data(), b.size()); }

}  // namespace

class IoBufferTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void pooledStorageComesAndGoes() {
    auto pool = std::make_shared<BufferPool>(64, 4);
    IoBuffer b(pool);
    QVERIFY(!b.hasStorage());
    QCOMPARE(b.spaceSize(), std::size_t{0});
    b.ensureStorage();
    QCOMPARE(b.capacity(), std::size_t{64});
    QCOMPARE(pool->inUse(), std::size_t{1});
    put(b, "abc");
    b.releaseIfEmpty();  // holds bytes: kept
    QVERIFY(b.hasStorage());
    b.consume(2);
    QCOMPARE(contents(b), std::string("c"));
    b.consume(1);
    b.releaseIfEmpty();
    QVERIFY(!b.hasStorage());
    QCOMPARE(pool->inUse(), std::size_t{0});
    QCOMPARE(pool->freeCount(), std::size_t{1});
    b.ensureStorage();  // the same buffer again
    QCOMPARE(pool->freeCount(), std::size_t{0});
  }

  // makeRoom first compacts, then grows into owned storage (the pool buffer goes back); once
  // empty and released, the next storage is a pool buffer again.
  void growthKeepsUnreadBytes() {
    auto pool = std::make_shared<BufferPool>(8, 4);
    IoBuffer b(pool);
    QVERIFY(b.makeRoom(64));  // takes storage
    put(b, "01234567");
    b.consume(3);
    QVERIFY(b.makeRoom(64));  // compacts
    QCOMPARE(contents(b), std::string("34567"));
    QCOMPARE(b.capacity(), std::size_t{8});
    put(b, "89A");
    QVERIFY(b.makeRoom(64));  // grows
    QCOMPARE(b.capacity(), std::size_t{16});
    QCOMPARE(contents(b), std::string("3456789A"));
    QCOMPARE(pool->inUse(), std::size_t{0});
    put(b, "BCDEFGHI");
    QVERIFY(b.makeRoom(32));
    QCOMPARE(b.capacity(), std::size_t{32});
    QCOMPARE(contents(b), std::string("3456789ABCDEFGHI"));
    b.consume(b.size());
    b.releaseIfEmpty();
    b.ensureStorage();
    QCOMPARE(b.capacity(), std::size_t{8});
    QCOMPARE(pool->inUse(), std::size_t{1});
  }

  void growthStopsAtTheBound() {
    IoBuffer b(std::size_t{8});
    put(b, "01234567");
    QVERIFY(b.makeRoom(16));
    put(b, "89abcdef");
    QVERIFY(!b.makeRoom(16));
    QCOMPARE(contents(b), std::string("0123456789abcdef"));
  }

  // An owned buffer keeps its (grown) size across a release.
  void ownedStorageKeepsItsSize() {
    IoBuffer b(std::size_t{8});
    b.reserveEmpty(32);
    QCOMPARE(b.capacity(), std::size_t{32});
    b.releaseIfEmpty();
    QVERIFY(!b.hasStorage());
    b.ensureStorage();
    QCOMPARE(b.capacity(), std::size_t{32});
  }

  // reserveEmpty grows only an empty buffer.
  void reserveEmptyLeavesBytesAlone() {
    auto pool = std::make_shared<BufferPool>(8, 4);
    IoBuffer b(pool);
    b.ensureStorage();
    put(b, "x");
    b.reserveEmpty(64);
    QCOMPARE(b.capacity(), std::size_t{8});
    b.consume(1);
    b.reserveEmpty(64);
    QCOMPARE(b.capacity(), std::size_t{64});
    QCOMPARE(pool->inUse(), std::size_t{0});
  }

  // At most maxFree buffers wait in the pool; the rest are freed.
  void poolKeepsABoundedFreeList() {
    auto pool = std::make_shared<BufferPool>(16, 2);
    {
      IoBuffer a(pool), b(pool), c(pool);
      a.ensureStorage();
      b.ensureStorage();
      c.ensureStorage();
      QCOMPARE(pool->inUse(), std::size_t{3});
    }
    QCOMPARE(pool->inUse(), std::size_t{0});
    QCOMPARE(pool->freeCount(), std::size_t{2});
  }
};

QTEST_GUILESS_MAIN(IoBufferTest)
#include "io_buffer_test.moc"
