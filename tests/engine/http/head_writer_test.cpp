#include <QtTest>

#include <string>

#include "http/head_parser.h"
#include "http/head_writer.h"

using namespace archway::http;

class HeadWriterTest : public QObject {
  Q_OBJECT
 private slots:
  void writesARequestHead() {
    std::string out;
    appendRequestLine(out, "GET", "/a?b=1");
    QVERIFY(appendHeader(out, "Host", "upstream.test"));
    appendHeadEnd(out);
    QCOMPARE(out, std::string("GET /a?b=1 HTTP/1.1\r\nHost: upstream.test\r\n\r\n"));
  }

  void writesAStatusLine() {
    std::string out;
    appendStatusLine(out, 404, "Not Found");
    appendStatusLine(out, 200, "");
    QCOMPARE(out, std::string("HTTP/1.1 404 Not Found\r\nHTTP/1.1 200 \r\n"));
  }

  void refusesHeaderInjection_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("CRLF in value") << QByteArray("X-A") << QByteArray("1\r\nX-Evil: 1");
    QTest::newRow("LF in value") << QByteArray("X-A") << QByteArray("1\nX-Evil: 1");
    QTest::newRow("NUL in value") << QByteArray("X-A") << QByteArray("a\0b", 3);
    QTest::newRow("colon in name") << QByteArray("X-A: 1\r\nX") << QByteArray("1");
    QTest::newRow("space in name") << QByteArray("X A") << QByteArray("1");
    QTest::newRow("empty name") << QByteArray() << QByteArray("1");
    QTest::newRow("DEL in value") << QByteArray("X-A") << QByteArray("a\x7f");
    QTest::newRow("CR after 16 bytes") << QByteArray("X-A") << QByteArray("0123456789abcdefgh\rX");
    QTest::newRow("space in long name")
        << QByteArray("X-RateLimit-Remaining Second") << QByteArray("1");
    QTest::newRow("slash in name") << QByteArray("X/A") << QByteArray("1");
  }

  void acceptsTabsLongValuesAndTokenNames() {
    std::string out;
    const std::string value = "a\tb " + std::string(40, 'v') + " \xc3\xa9";
    QVERIFY(appendHeader(out, "X-RateLimit-Remaining-Second", value));
    QVERIFY(appendHeader(out, "X!#$%&'*+.^_`|~", ""));
    QCOMPARE(out, "X-RateLimit-Remaining-Second: " + value + "\r\nX!#$%&'*+.^_`|~: \r\n");
  }
  void refusesHeaderInjection() {
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, value);
    std::string out = "kept";
    QVERIFY(!appendHeader(out, {name.constData(), std::size_t(name.size())},
                          {value.constData(), std::size_t(value.size())}));
    QCOMPARE(out, std::string("kept"));
  }

  void forwardsOnlyEndToEndHeaders() {
    const std::string in =
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Hop, keep-alive\r\nX-Hop: 1\r\n"
        "Keep-Alive: 5\r\nX-End: 2\r\n\r\n";
    RequestHead h;
    ParseError err;
    QCOMPARE(parseRequestHead(in.data(), in.size(), Limits{}, h, err), ParseStatus::complete);
    std::string out;
    appendRequestLine(out, h.method.in(in.data()), h.target.in(in.data()));
    appendEndToEndHeaders(out, in.data(), h.headers);
    appendHeadEnd(out);
    QCOMPARE(out, std::string("GET / HTTP/1.1\r\nHost: a\r\nX-End: 2\r\n\r\n"));
  }
};

QTEST_GUILESS_MAIN(HeadWriterTest)
#include "head_writer_test.moc"
