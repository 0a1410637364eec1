// net::DrainingBuffer: reads that emptied the socket stop Asio's speculative recv until epoll
// reports the socket again, and no data is ever lost by it. net::PooledRead: the same, and a
// read waiting for data holds no buffer from the pool. Real loopback TCP sockets; the
// recv calls are counted by interposing recv() in this executable (Asio calls ::recv).
#include <QtTest>

#include <dlfcn.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "net/draining_buffer.h"

namespace {
int recvCalls = 0;
}

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
  using Fn = ssize_t (*)(int, void*, size_t, int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "recv"));
  ++recvCalls;
  return real(fd, buf, len, flags);
}

namespace {

using boost::asio::ip::tcp;
using namespace std::chrono_literals;

struct Pair {
  boost::asio::io_context io;
  tcp::socket server{io};
  tcp::socket client{io};
  Pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  void send(const std::string& s) { boost::asio::write(client, boost::asio::buffer(s)); }
};

struct ReadResult {
  bool done = false;
  boost::system::error_code ec;
  std::string data;
};

// Starts one read of at most `size` bytes into `out`; DrainingBuffer unless `plain`.
void startRead(Pair& p, char* buf, std::size_t size, ReadResult& out, bool plain = false) {
  auto handler = [&out, buf](boost::system::error_code ec, std::size_t n) {
    out.done = true;
    out.ec = ec;
    out.data.assign(buf, n);
  };
  if (plain)
    p.server.async_read_some(boost::asio::buffer(buf, size), handler);
  else
    p.server.async_read_some(archway::net::DrainingBuffer(buf, size), handler);
}

// Starts one PooledRead into `buf`; the handler records what `buf` holds then.
void startPooledRead(Pair& p, archway::net::IoBuffer& buf, ReadResult& out) {
  p.server.async_read_some(archway::net::PooledRead(buf, 4096),
                           [&out, &buf](boost::system::error_code ec, std::size_t n) {
                             out.done = true;
                             out.ec = ec;
                             buf.produced(n);
                             out.data.assign(buf.data(), buf.size());
                           });
}

// Runs the io_context until `r` completes or two seconds pass.
bool finish(Pair& p, ReadResult& r) {
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (!r.done && std::chrono::steady_clock::now() < until) {
    p.io.restart();
    p.io.run_for(10ms);
  }
  return r.done;
}

ReadResult readOnce(Pair& p, std::size_t size, bool plain = false) {
  static char buf[65536];
  ReadResult r;
  startRead(p, buf, size, r, plain);
  finish(p, r);
  return r;
}

// The reactor runs for a while with no read queued on the server socket, so any readiness
// edge that arrives meanwhile is consumed without an operation to perform.
void idle(Pair& p) {
  for (int i = 0; i < 5; ++i) {
    p.io.restart();
    p.io.run_for(5ms);
  }
}

}  // namespace

class DrainingBufferTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // The keep-alive case: the next request is not there yet when the read starts. After a
  // short read the next read makes one recv (when the data comes); Asio's plain read makes
  // two (a speculative one that fails with EAGAIN, then the real one).
  void shortReadSkipsTheSpeculativeRecv() {
    for (bool plain : {false, true}) {
      Pair p;
      p.send("first");
      QCOMPARE(readOnce(p, 4096, plain).data, std::string("first"));
      idle(p);
      static char buf[4096];
      ReadResult r;
      recvCalls = 0;
      startRead(p, buf, sizeof buf, r, plain);
      p.io.restart();
      p.io.poll();
      QVERIFY(!r.done);
      p.send("second");
      QVERIFY(finish(p, r));
      QCOMPARE(r.data, std::string("second"));
      QCOMPARE(recvCalls, plain ? 2 : 1);
    }
  }

  // Data that arrives while no read is queued (a pipelined request, a body) is read by the
  // next read: the edge marks the socket for a speculative read again.
  void dataArrivingBetweenReadsIsNotLost() {
    Pair p;
    p.send("GET / HTTP/1.1\r\n\r\n");
    QCOMPARE(readOnce(p, 4096).data, std::string("GET / HTTP/1.1\r\n\r\n"));
    p.send("pipelined");
    idle(p);
    ReadResult r = readOnce(p, 4096);
    QVERIFY(r.done);
    QCOMPARE(r.data, std::string("pipelined"));
  }

  // A read that filled its buffer may have left data behind: the next read takes it at once.
  void fullReadsKeepReading() {
    Pair p;
    p.send("0123456789");
    idle(p);
    QCOMPARE(readOnce(p, 4).data, std::string("0123"));
    QCOMPARE(readOnce(p, 4).data, std::string("4567"));
    QCOMPARE(readOnce(p, 4).data, std::string("89"));
    p.send("next");
    QCOMPARE(readOnce(p, 4096).data, std::string("next"));
  }

  // The peer's close after a short read still reaches the next read.
  void closeAfterShortReadIsSeen() {
    Pair p;
    p.send("last");
    QCOMPARE(readOnce(p, 4096).data, std::string("last"));
    p.client.close();
    idle(p);
    ReadResult r = readOnce(p, 4096);
    QVERIFY(r.done);
    QCOMPARE(r.ec, boost::system::error_code(boost::asio::error::eof));
  }

  // Cancelling a queued read (the proxy's timeouts do) completes it with operation_aborted.
  void queuedReadCanBeCancelled() {
    Pair p;
    p.send("x");
    QCOMPARE(readOnce(p, 4096).data, std::string("x"));
    static char buf[16];
    ReadResult r;
    startRead(p, buf, sizeof buf, r);
    p.io.restart();
    p.io.poll();
    QVERIFY(!r.done);
    p.server.cancel();
    QVERIFY(finish(p, r));
    QCOMPARE(r.ec, boost::system::error_code(boost::asio::error::operation_aborted));
  }

  // An idle keep-alive connection: the read waits for the next request without a buffer, takes
  // one when the bytes come (one recv, as a DrainingBuffer), and the buffer goes back to the
  // pool once consumed.
  void pooledReadTakesItsBufferWhenDataArrives() {
    auto pool = std::make_shared<archway::net::BufferPool>(4096, 8);
    archway::net::IoBuffer buf(pool);
    Pair p;
    p.send("first");
    ReadResult r;
    startPooledRead(p, buf, r);
    QVERIFY(finish(p, r));
    QCOMPARE(r.data, std::string("first"));
    QCOMPARE(pool->inUse(), std::size_t{1});
    buf.consume(buf.size());
    buf.releaseIfEmpty();
    QCOMPARE(pool->inUse(), std::size_t{0});
    QCOMPARE(pool->freeCount(), std::size_t{1});
    idle(p);
    ReadResult next;
    recvCalls = 0;
    startPooledRead(p, buf, next);
    p.io.restart();
    p.io.poll();
    QVERIFY(!next.done);
    QVERIFY(!buf.hasStorage());
    QCOMPARE(pool->inUse(), std::size_t{0});
    p.send("second");
    QVERIFY(finish(p, next));
    QCOMPARE(next.data, std::string("second"));
    QCOMPARE(recvCalls, 1);
    QCOMPARE(pool->inUse(), std::size_t{1});
  }

  // A speculative recv that finds nothing gives the buffer it took back at once.
  void pooledReadGivesBackWhatFoundNothing() {
    auto pool = std::make_shared<archway::net::BufferPool>(4096, 8);
    archway::net::IoBuffer buf(pool);
    Pair p;
    ReadResult r;
    recvCalls = 0;
    startPooledRead(p, buf, r);  // a fresh socket: Asio tries the recv at once (EAGAIN)
    p.io.restart();
    p.io.poll();
    QVERIFY(!r.done);
    QCOMPARE(recvCalls, 1);
    QVERIFY(!buf.hasStorage());
    QCOMPARE(pool->inUse(), std::size_t{0});
    p.send("late");
    QVERIFY(finish(p, r));
    QCOMPARE(r.data, std::string("late"));
  }

  // The peer's close and a cancel complete a pooled read without keeping a buffer.
  void pooledReadEndsWithoutABuffer() {
    auto pool = std::make_shared<archway::net::BufferPool>(4096, 8);
    for (bool cancel : {false, true}) {
      archway::net::IoBuffer buf(pool);
      Pair p;
      ReadResult r;
      startPooledRead(p, buf, r);
      p.io.restart();
      p.io.poll();
      if (cancel)
        p.server.cancel();
      else
        p.client.close();
      QVERIFY(finish(p, r));
      const boost::system::error_code expected =
          cancel ? boost::system::error_code(boost::asio::error::operation_aborted)
                 : boost::system::error_code(boost::asio::error::eof);
      QCOMPARE(r.ec, expected);
      QVERIFY(!buf.hasStorage());
      QCOMPARE(pool->inUse(), std::size_t{0});
    }
  }
};

QTEST_GUILESS_MAIN(DrainingBufferTest)
#include "draining_buffer_test.moc"
