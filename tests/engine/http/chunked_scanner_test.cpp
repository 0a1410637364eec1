#include <QtTest>

#include "http/chunked_scanner.h"

using namespace archway::http;

namespace {

struct Scan {
  std::size_t consumed = 0;
  bool done = false;
  bool error = false;
  QString message;
  quint64 dataBytes = 0;
};

// Feeds `in` in pieces of `step` bytes (0: all at once), stopping like a relay would.
Scan scan(const QByteArray& in, int step, ChunkedLimits limits = {}) {
  ChunkedScanner s(limits);
  Scan r;
  int at = 0;
  while (at < in.size() && !s.done() && !s.error()) {
    const int n = step == 0 ? in.size() - at : std::min(step, int(in.size()) - at);
    const std::size_t used = s.feed(in.constData() + at, std::size_t(n));
    r.consumed += used;
    at += n;
    if (used < std::size_t(n)) break;
  }
  r.done = s.done();
  r.error = s.error();
  r.message = QString::fromLatin1(s.message().data(), int(s.message().size()));
  r.dataBytes = s.dataBytes();
  return r;
}

}  // namespace

class ChunkedScannerTest : public QObject {
  Q_OBJECT
 private slots:
  void findsTheEndOfValidBodies_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<quint64>("dataBytes");
    QTest::newRow("single chunk") << QByteArray("5\r\nhello\r\n0\r\n\r\n") << quint64(5);
    QTest::newRow("empty body") << QByteArray("0\r\n\r\n") << quint64(0);
    QTest::newRow("many chunks") << QByteArray("1\r\na\r\n2\r\nbc\r\nA\r\n0123456789\r\n0\r\n\r\n")
                                 << quint64(13);
    QTest::newRow("hex digits both cases")
        << QByteArray("a\r\n0123456789\r\nB\r\n0123456789x\r\n0\r\n\r\n") << quint64(21);
    QTest::newRow("leading zeros") << QByteArray("0003\r\nabc\r\n000\r\n\r\n") << quint64(3);
    QTest::newRow("data containing CRLF") << QByteArray("4\r\n\r\n\r\n\r\n0\r\n\r\n") << quint64(4);
    QTest::newRow("chunk extensions")
        << QByteArray("3;name=value\r\nabc\r\n2;a;b=\"q s\"\r\nde\r\n0;last\r\n\r\n") << quint64(5);
    QTest::newRow("whitespace before extension")
        << QByteArray("3 \t;x=1\r\nabc\r\n0\r\n\r\n") << quint64(3);
    QTest::newRow("trailers") << QByteArray("3\r\nabc\r\n0\r\nX-Sum: 12\r\nX-Empty:\r\n\r\n")
                              << quint64(3);
  }
  void findsTheEndOfValidBodies() {
    QFETCH(QByteArray, body);
    QFETCH(quint64, dataBytes);
    const QByteArray next = "GET /next HTTP/1.1\r\n";
    for (int step : {0, 1, 2, 7}) {
      const Scan r = scan(body + next, step);
      QVERIFY2(r.done, qPrintable(QString("step %1: %2").arg(step).arg(r.message)));
      QVERIFY(!r.error);
      QCOMPARE(r.consumed, std::size_t(body.size()));
      QCOMPARE(r.dataBytes, dataBytes);
    }
  }

  void isNotDoneBeforeTheLastByte() {
    const QByteArray body = "5\r\nhello\r\n3;x\r\nabc\r\n0\r\nT: v\r\n\r\n";
    ChunkedScanner s;
    for (int i = 0; i < body.size(); ++i) {
      QVERIFY(!s.done());
      QCOMPARE(s.feed(body.constData() + i, 1), std::size_t(1));
    }
    QVERIFY(s.done());
    QCOMPARE(s.feed("more", 4), std::size_t(0));
  }

  void acceptsTheLargestChunkSize() {
    ChunkedScanner s;
    const QByteArray head = "7fffffffffffffff\r\n";
    QCOMPARE(s.feed(head.constData(), std::size_t(head.size())), std::size_t(head.size()));
    QVERIFY(!s.error());
    QCOMPARE(s.feed("data", 4), std::size_t(4));
    QCOMPARE(s.dataBytes(), quint64(4));
  }

  void resetStartsANewBody() {
    ChunkedScanner s;
    QCOMPARE(s.feed("zz", 2), std::size_t(0));
    QVERIFY(s.error());
    s.reset();
    QVERIFY(!s.error());
    QVERIFY(s.message().empty());
    const QByteArray body = "1\r\nx\r\n0\r\n\r\n";
    QCOMPARE(s.feed(body.constData(), std::size_t(body.size())), std::size_t(body.size()));
    QVERIFY(s.done());
  }

  void rejectsInvalidBodies_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("errorAt");
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("maxChunkLine");
    QTest::addColumn<int>("maxTrailerBytes");
    const int line = 4096, trailers = 16384;
    QTest::newRow("invalid hex") << QByteArray("g\r\n") << 0 << "invalid chunk size" << line
                                 << trailers;
    QTest::newRow("invalid hex after digits")
        << QByteArray("5g\r\nhello\r\n") << 1 << "invalid chunk size" << line << trailers;
    QTest::newRow("0x prefix") << QByteArray("0x5\r\nhello\r\n") << 1 << "invalid chunk size"
                               << line << trailers;
    QTest::newRow("negative size")
        << QByteArray("-5\r\n") << 0 << "invalid chunk size" << line << trailers;
    QTest::newRow("empty size") << QByteArray("\r\n") << 0 << "invalid chunk size" << line
                                << trailers;
    QTest::newRow("whitespace before CRLF")
        << QByteArray("5 \r\nhello\r\n") << 2 << "invalid chunk size" << line << trailers;
    QTest::newRow("size overflow 2^63")
        << QByteArray("8000000000000000\r\n") << 15 << "chunk size overflow" << line << trailers;
    QTest::newRow("size overflow 2^64")
        << QByteArray("10000000000000000\r\n") << 16 << "chunk size overflow" << line << trailers;
    QTest::newRow("missing CRLF after data") << QByteArray("5\r\nhelloX\r\n0\r\n\r\n") << 8
                                             << "missing CRLF after chunk data" << line << trailers;
    QTest::newRow("CR without LF after data")
        << QByteArray("5\r\nhello\rX0\r\n\r\n") << 9 << "missing CRLF after chunk data" << line
        << trailers;
    QTest::newRow("bare LF after data") << QByteArray("5\r\nhello\n0\r\n\r\n") << 8
                                        << "missing CRLF after chunk data" << line << trailers;
    QTest::newRow("bare LF after size")
        << QByteArray("5\nhello\r\n") << 1 << "invalid chunk size" << line << trailers;
    QTest::newRow("bare CR after size")
        << QByteArray("5\rhello\r\n") << 2 << "bare CR in chunk size line" << line << trailers;
    QTest::newRow("LF in extension")
        << QByteArray("5;a\nb\r\nhello\r\n") << 3 << "invalid chunk extension" << line << trailers;
    QTest::newRow("NUL in extension") << QByteArray("5;a\0\r\nhello\r\n", 13) << 3
                                      << "invalid chunk extension" << line << trailers;
    QTest::newRow("chunk size line too long") << QByteArray("5;" + QByteArray(30, 'x') + "\r\n")
                                              << 16 << "chunk size line too long" << 16 << trailers;
    QTest::newRow("long leading zeros") << QByteArray(QByteArray(20, '0') + "5\r\n") << 16
                                        << "chunk size line too long" << 16 << trailers;
    QTest::newRow("trailer section too large")
        << QByteArray("0\r\nX-A: " + QByteArray(40, 'v') + "\r\n\r\n") << 38
        << "trailer section too large" << line << 35;
    QTest::newRow("obs-fold in trailer")
        << QByteArray("0\r\nX-A: 1\r\n 2\r\n\r\n") << 11
        << "obsolete line folding in trailer section" << line << trailers;
    QTest::newRow("trailer without colon")
        << QByteArray("0\r\nX-A\r\n\r\n") << 6 << "invalid trailer field" << line << trailers;
    QTest::newRow("space before colon in trailer")
        << QByteArray("0\r\nX-A : 1\r\n\r\n") << 6 << "invalid trailer field" << line << trailers;
    QTest::newRow("bare LF in trailer")
        << QByteArray("0\r\nX-A: 1\n\r\n") << 9 << "invalid trailer field" << line << trailers;
    QTest::newRow("bare CR ending trailer") << QByteArray("0\r\nX-A: 1\rX\r\n") << 10
                                            << "bare CR in trailer section" << line << trailers;
    QTest::newRow("bare LF ending body")
        << QByteArray("0\r\n\n") << 3 << "invalid trailer field" << line << trailers;
    QTest::newRow("bare CR ending body")
        << QByteArray("0\r\n\rX") << 4 << "bare CR after trailer section" << line << trailers;
  }
  void rejectsInvalidBodies() {
    QFETCH(QByteArray, body);
    QFETCH(int, errorAt);
    QFETCH(QString, message);
    QFETCH(int, maxChunkLine);
    QFETCH(int, maxTrailerBytes);
    const ChunkedLimits limits{std::size_t(maxChunkLine), std::size_t(maxTrailerBytes)};
    for (int step : {0, 1}) {
      const Scan r = scan(body, step, limits);
      QVERIFY2(r.error, qPrintable(QString("step %1").arg(step)));
      QVERIFY(!r.done);
      QCOMPARE(r.message, message);
      QCOMPARE(int(r.consumed), errorAt);
    }
  }
};

QTEST_GUILESS_MAIN(ChunkedScannerTest)
#include "chunked_scanner_test.moc"
