#include <QtTest>

#include <string>

#include "http/head_parser.h"

using namespace archway::http;

namespace {

// Raw bytes, NULs included.
template <std::size_t N>
QByteArray bytes(const char (&s)[N]) {
  return QByteArray(s, int(N - 1));
}

QString text(const char* base, Slice s) {
  return QString::fromLatin1(base + s.off, int(s.len));
}

ParseStatus parse(const QByteArray& in, RequestHead& head, ParseError& err, const Limits& l = {}) {
  head.reset();
  return parseRequestHead(in.constData(), std::size_t(in.size()), l, head, err);
}

ParseStatus parse(const QByteArray& in, ResponseHead& head, ParseError& err, const Limits& l = {}) {
  head.reset();
  return parseResponseHead(in.constData(), std::size_t(in.size()), l, head, err);
}

QByteArray get(const QByteArray& extraHeaders) {
  return "GET / HTTP/1.1\r\nHost: example.com\r\n" + extraHeaders + "\r\n";
}

QByteArray post(const QByteArray& framing) {
  return "POST /upload HTTP/1.1\r\nHost: example.com\r\n" + framing + "\r\n";
}

QByteArray manyHeaders(int n) {
  QByteArray h;
  for (int i = 0; i < n; ++i) h += "X-H" + QByteArray::number(i) + ": v\r\n";
  return h;
}

}  // namespace

Q_DECLARE_METATYPE(archway::http::ParseStatus)

class HeadParserTest : public QObject {
  Q_OBJECT
 private slots:
  void parsesValidRequests_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<QString>("method");
    QTest::addColumn<int>("methodId");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("authority");
    QTest::addColumn<int>("minor");
    QTest::addColumn<bool>("keepAlive");
    QTest::addColumn<qint64>("contentLength");
    QTest::addColumn<bool>("chunked");
    QTest::addColumn<int>("headerCount");

    const int get = int(Method::get), other = int(Method::other);
    QTest::newRow("simple GET") << QByteArray("GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n") << "GET"
                                << get << "/a/b"
                                << ""
                                << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("query") << QByteArray("GET /s?q=1&r=?x HTTP/1.1\r\nHost: x\r\n\r\n") << "GET"
                           << get << "/s"
                           << "q=1&r=?x"
                           << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("empty query") << QByteArray("GET /s? HTTP/1.1\r\nHost: x\r\n\r\n") << "GET"
                                 << get << "/s"
                                 << ""
                                 << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("POST with Content-Length")
        << post("Content-Length: 11\r\n") << "POST" << int(Method::post) << "/upload"
        << ""
        << "" << 1 << true << qint64(11) << false << 2;
    QTest::newRow("chunked POST") << post("Transfer-Encoding: chunked\r\n") << "POST"
                                  << int(Method::post) << "/upload"
                                  << ""
                                  << "" << 1 << true << qint64(-1) << true << 2;
    QTest::newRow("chunked coding name is case-insensitive")
        << post("transfer-encoding: Chunked\r\n") << "POST" << int(Method::post) << "/upload"
        << ""
        << "" << 1 << true << qint64(-1) << true << 2;
    QTest::newRow("identical Content-Length list")
        << post("Content-Length: 5, 5\r\n") << "POST" << int(Method::post) << "/upload"
        << ""
        << "" << 1 << true << qint64(5) << false << 2;
    QTest::newRow("repeated identical Content-Length")
        << post("Content-Length: 7\r\ncontent-length: 7\r\n") << "POST" << int(Method::post)
        << "/upload"
        << ""
        << "" << 1 << true << qint64(7) << false << 3;
    QTest::newRow("Content-Length zero")
        << post("Content-Length: 0\r\n") << "POST" << int(Method::post) << "/upload"
        << ""
        << "" << 1 << true << qint64(0) << false << 2;
    QTest::newRow("HTTP/1.1 Connection close")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n") << "GET" << get
        << "/"
        << ""
        << "" << 1 << false << qint64(-1) << false << 2;
    QTest::newRow("HTTP/1.0 closes by default")
        << QByteArray("GET / HTTP/1.0\r\n\r\n") << "GET" << get << "/"
        << ""
        << "" << 0 << false << qint64(-1) << false << 0;
    QTest::newRow("HTTP/1.0 keep-alive")
        << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << "GET" << get << "/"
        << ""
        << "" << 0 << true << qint64(-1) << false << 1;
    QTest::newRow("HTTP/1.0 keep-alive and close")
        << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") << "GET" << get
        << "/"
        << ""
        << "" << 0 << false << qint64(-1) << false << 1;
    QTest::newRow("absolute-form") << QByteArray(
                                          "GET http://Example.com:8080/p/q?x=1 HTTP/1.1\r\n"
                                          "Host: example.com:8080\r\n\r\n")
                                   << "GET" << get << "/p/q"
                                   << "x=1"
                                   << "Example.com:8080" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("absolute-form https without path")
        << QByteArray("GET HTTPS://h.test?x HTTP/1.1\r\nHost: h.test\r\n\r\n") << "GET" << get << ""
        << "x"
        << "h.test" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("absolute-form IPv6")
        << QByteArray("GET http://[::1]:80/ HTTP/1.1\r\nHost: x\r\n\r\n") << "GET" << get << "/"
        << ""
        << "[::1]:80" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("OPTIONS *") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n") << "OPTIONS"
                               << int(Method::options) << "*"
                               << ""
                               << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("CONNECT authority-form")
        << QByteArray("CONNECT db.test:5432 HTTP/1.1\r\nHost: db.test:5432\r\n\r\n") << "CONNECT"
        << int(Method::connect) << ""
        << ""
        << "db.test:5432" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("extension method")
        << QByteArray("PURGE /c HTTP/1.1\r\nHost: x\r\n\r\n") << "PURGE" << other << "/c"
        << ""
        << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("methods are case-sensitive")
        << QByteArray("get / HTTP/1.1\r\nHost: x\r\n\r\n") << "get" << other << "/"
        << ""
        << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("leading empty lines skipped")
        << QByteArray("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n") << "GET" << get << "/"
        << ""
        << "" << 1 << true << qint64(-1) << false << 1;
    QTest::newRow("many headers") << ::get(manyHeaders(99)) << "GET" << get << "/"
                                  << ""
                                  << "" << 1 << true << qint64(-1) << false << 100;
    QTest::newRow("empty header value")
        << ::get("X-Empty:\r\nX-Blank:   \r\n") << "GET" << get << "/"
        << ""
        << "" << 1 << true << qint64(-1) << false << 3;
    QTest::newRow("HTAB and obs-text in value")
        << ::get("X-T: a\tb \xc3\xa9\r\n") << "GET" << get << "/"
        << ""
        << "" << 1 << true << qint64(-1) << false << 2;
    QTest::newRow("HTTP/1.0 without Host")
        << QByteArray("HEAD /x HTTP/1.0\r\n\r\n") << "HEAD" << int(Method::head) << "/x"
        << ""
        << "" << 0 << false << qint64(-1) << false << 0;
    QTest::newRow("empty Host") << QByteArray("GET / HTTP/1.1\r\nHost:\r\n\r\n") << "GET" << get
                                << "/"
                                << ""
                                << "" << 1 << true << qint64(-1) << false << 1;
  }
  void parsesValidRequests() {
    QFETCH(QByteArray, in);
    QFETCH(QString, method);
    QFETCH(int, methodId);
    QFETCH(QString, path);
    QFETCH(QString, query);
    QFETCH(QString, authority);
    QFETCH(int, minor);
    QFETCH(bool, keepAlive);
    QFETCH(qint64, contentLength);
    QFETCH(bool, chunked);
    QFETCH(int, headerCount);
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::complete);
    const char* b = in.constData();
    QCOMPARE(h.headEnd, std::uint32_t(in.size()));
    QCOMPARE(text(b, h.method), method);
    QCOMPARE(int(h.methodId), methodId);
    QCOMPARE(text(b, h.path), path);
    QCOMPARE(text(b, h.query), query);
    QCOMPARE(text(b, h.authority), authority);
    QCOMPARE(h.versionMinor, minor);
    QCOMPARE(h.keepAlive, keepAlive);
    QCOMPARE(qint64(h.contentLength), contentLength);
    QCOMPARE(h.chunked, chunked);
    QCOMPARE(int(h.headers.size()), headerCount);
  }

  void exposesHeadersInPlace() {
    const QByteArray in = "GET / HTTP/1.1\r\nHost: a.test\r\nX-Trim:  \t spaced value \t \r\n\r\n";
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::complete);
    QCOMPARE(h.headers.size(), std::size_t(2));
    QCOMPARE(h.host, 0);
    QCOMPARE(text(in.constData(), h.headers[0].value), QString("a.test"));
    QCOMPARE(text(in.constData(), h.headers[1].name), QString("X-Trim"));
    QCOMPARE(text(in.constData(), h.headers[1].value), QString("spaced value"));
    // In place: the value points into the caller's buffer.
    QCOMPARE(h.headers[1].value.in(in.constData()).data(), in.constData() + in.indexOf("spaced"));
    QCOMPARE(h.find(in.constData(), "x-trim"), 1);
    QCOMPARE(h.find(in.constData(), "absent"), -1);
  }

  void pipelinedRequestsEndAtHeadEnd() {
    const QByteArray first = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n";
    const QByteArray second = "GET /two HTTP/1.1\r\nHost: y\r\n\r\n";
    const QByteArray in = first + second;
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::complete);
    QCOMPARE(h.headEnd, std::uint32_t(first.size()));
    QCOMPARE(text(in.constData(), h.path), QString("/one"));
    // The next call on the same head starts a new message.
    const char* rest = in.constData() + h.headEnd;
    QCOMPARE(parseRequestHead(rest, std::size_t(second.size()), Limits{}, h, err),
             ParseStatus::complete);
    QCOMPARE(h.headEnd, std::uint32_t(second.size()));
    QCOMPARE(text(rest, h.path), QString("/two"));
    QCOMPARE(text(rest, h.headers[0].value), QString("y"));
  }

  void byteByByteIsIncompleteUntilTheLastByte_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::newRow("GET") << QByteArray(
        "\r\nGET /p?q HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Y: z\r\n\r\n");
    QTest::newRow("POST chunked") << post("Transfer-Encoding: chunked\r\nX-A: 1\r\n");
  }
  void byteByByteIsIncompleteUntilTheLastByte() {
    QFETCH(QByteArray, in);
    RequestHead oneShot;
    ParseError err;
    QCOMPARE(parse(in, oneShot, err), ParseStatus::complete);

    // Resumed: one head object fed growing prefixes, as a connection does.
    RequestHead h;
    for (int n = 1; n < in.size(); ++n)
      QCOMPARE(parseRequestHead(in.constData(), std::size_t(n), Limits{}, h, err),
               ParseStatus::incomplete);
    QCOMPARE(parseRequestHead(in.constData(), std::size_t(in.size()), Limits{}, h, err),
             ParseStatus::complete);
    QCOMPARE(h.headEnd, oneShot.headEnd);
    QCOMPARE(h.headers.size(), oneShot.headers.size());
    QCOMPARE(h.chunked, oneShot.chunked);
    QCOMPARE(h.keepAlive, oneShot.keepAlive);
    QCOMPARE(h.path, oneShot.path);

    // Fresh: every prefix on its own is incomplete too.
    for (int n = 0; n < in.size(); ++n) {
      RequestHead fresh;
      QCOMPARE(parseRequestHead(in.constData(), std::size_t(n), Limits{}, fresh, err),
               ParseStatus::incomplete);
    }
  }

  void resumesAfterTheBufferMoved() {
    const QByteArray in = "GET /moved HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
    RequestHead h;
    ParseError err;
    std::string first(in.constData(), 25);
    QCOMPARE(parseRequestHead(first.data(), first.size(), Limits{}, h, err),
             ParseStatus::incomplete);
    const std::string grown(in.constData(), std::size_t(in.size()));  // a different buffer
    QCOMPARE(parseRequestHead(grown.data(), grown.size(), Limits{}, h, err), ParseStatus::complete);
    QCOMPARE(h.path.in(grown.data()), std::string_view("/moved"));
    QCOMPARE(h.headers.size(), std::size_t(2));
  }

  // reserve() makes room for a typical head; a head with more headers grows the storage once,
  // and later heads reuse it.
  void reusesHeaderStorageWithoutReallocating() {
    Limits limits;
    RequestHead h;
    h.reserve(limits);
    const Header* storage = h.headers.data();
    ParseError err;
    for (int i = 0; i < 3; ++i) {
      const QByteArray in = get(manyHeaders(20));
      QCOMPARE(parseRequestHead(in.constData(), std::size_t(in.size()), limits, h, err),
               ParseStatus::complete);
      QCOMPARE(h.headers.size(), std::size_t(21));
      QCOMPARE(h.headers.data(), storage);
    }
    for (int i = 0; i < 3; ++i) {
      const QByteArray in = get(manyHeaders(99));
      QCOMPARE(parseRequestHead(in.constData(), std::size_t(in.size()), limits, h, err),
               ParseStatus::complete);
      QCOMPARE(h.headers.size(), std::size_t(100));
      if (i == 0) storage = h.headers.data();
      QCOMPARE(h.headers.data(), storage);
    }
  }

  void rejectsInvalidRequests_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");

    // Framing (request smuggling).
    QTest::newRow("Content-Length and Transfer-Encoding")
        << post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") << 400
        << "both Content-Length and Transfer-Encoding";
    QTest::newRow("Transfer-Encoding and Content-Length")
        << post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") << 400
        << "both Content-Length and Transfer-Encoding";
    QTest::newRow("differing Content-Length headers")
        << post("Content-Length: 5\r\nContent-Length: 6\r\n") << 400
        << "conflicting Content-Length values";
    QTest::newRow("differing Content-Length list")
        << post("Content-Length: 5, 6\r\n") << 400 << "conflicting Content-Length values";
    QTest::newRow("Content-Length not a number")
        << post("Content-Length: abc\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length negative")
        << post("Content-Length: -1\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length with sign")
        << post("Content-Length: +5\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length hex")
        << post("Content-Length: 0x10\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length two numbers")
        << post("Content-Length: 5 5\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length empty")
        << post("Content-Length:\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length empty list element")
        << post("Content-Length: 5,,5\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Content-Length overflow")
        << post("Content-Length: 9223372036854775808\r\n") << 400 << "invalid Content-Length";
    QTest::newRow("Transfer-Encoding gzip")
        << post("Transfer-Encoding: gzip\r\n") << 501
        << "Not Implemented: transfer coding other than chunked";
    QTest::newRow("Transfer-Encoding unknown coding")
        << post("Transfer-Encoding: xchunked\r\n") << 501
        << "Not Implemented: transfer coding other than chunked";
    QTest::newRow("Transfer-Encoding gzip, chunked")
        << post("Transfer-Encoding: gzip, chunked\r\n") << 501
        << "Not Implemented: transfer coding other than chunked";
    QTest::newRow("Transfer-Encoding final coding not chunked")
        << post("Transfer-Encoding: chunked, identity\r\n") << 501
        << "Not Implemented: transfer coding other than chunked";
    QTest::newRow("chunked twice in one header") << post("Transfer-Encoding: chunked, chunked\r\n")
                                                 << 400 << "chunked applied more than once";
    QTest::newRow("chunked twice in two headers")
        << post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") << 400
        << "chunked applied more than once";
    QTest::newRow("chunked with parameter")
        << post("Transfer-Encoding: chunked;q=1\r\n") << 400 << "invalid Transfer-Encoding";
    QTest::newRow("codings without comma")
        << post("Transfer-Encoding: gzip chunked\r\n") << 400 << "invalid Transfer-Encoding";
    QTest::newRow("Transfer-Encoding empty")
        << post("Transfer-Encoding: ,\r\n") << 400 << "invalid Transfer-Encoding";
    QTest::newRow("Transfer-Encoding in HTTP/1.0")
        << QByteArray("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") << 400
        << "Transfer-Encoding in an HTTP/1.0 message";

    // Field syntax.
    QTest::newRow("obs-fold") << get("X-A: one\r\n two\r\n") << 400
                              << "obsolete line folding is not allowed";
    QTest::newRow("obs-fold with HTAB")
        << get("X-A: one\r\n\ttwo\r\n") << 400 << "obsolete line folding is not allowed";
    QTest::newRow("whitespace before first header")
        << QByteArray("GET / HTTP/1.1\r\n Host: x\r\n\r\n") << 400
        << "whitespace between start line and first header field";
    QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nHost : x\r\n\r\n") << 400
                                        << "whitespace between header field name and colon";
    QTest::newRow("HTAB before colon") << get("Content-Length\t: 5\r\n") << 400
                                       << "whitespace between header field name and colon";
    QTest::newRow("NUL in value") << get(bytes("X-A: a\0b\r\n")) << 400
                                  << "invalid character in header field value";
    QTest::newRow("control character in value") << get(bytes("X-A: a\x01"
                                                             "b\r\n"))
                                                << 400 << "invalid character in header field value";
    QTest::newRow("DEL in value") << get(bytes("X-A: a\x7f"
                                               "b\r\n"))
                                  << 400 << "invalid character in header field value";
    QTest::newRow("bare CR in value")
        << get("X-A: a\rb\r\n") << 400 << "invalid character in header field value";
    QTest::newRow("bare CR line ending")
        << get("X-A: a\rX-B: b\r\n") << 400 << "invalid character in header field value";
    QTest::newRow("bare CR ends the head")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\rX") << 400 << "bare CR in header section";
    QTest::newRow("bare LF header line")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\n\r\n") << 400 << "bare LF line ending";
    QTest::newRow("bare LF request line")
        << QByteArray("GET / HTTP/1.1\nHost: x\r\n\r\n") << 400 << "bare LF line ending";
    QTest::newRow("bare LF ends the head")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\n") << 400 << "bare LF line ending";
    QTest::newRow("bare CR before request line")
        << QByteArray("\rGET / HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "bare CR in request head";
    QTest::newRow("NUL in header name")
        << get(bytes("X\0A: 1\r\n")) << 400 << "invalid character in header field name";
    QTest::newRow("invalid header name character")
        << get("X(A): 1\r\n") << 400 << "invalid character in header field name";
    QTest::newRow("non-ASCII header name")
        << get("X-\xc3\xa9: 1\r\n") << 400 << "invalid character in header field name";
    QTest::newRow("empty header name") << get(": 1\r\n") << 400 << "empty header field name";
    QTest::newRow("header without colon") << get("X-A\r\n") << 400 << "header field without colon";
    QTest::newRow("invalid Connection option")
        << get("Connection: close;x\r\n") << 400 << "invalid Connection header";
    QTest::newRow("too many Connection options")
        << get("Connection: " + QByteArray("a,").repeated(33) + "\r\n") << 400
        << "too many Connection options";

    // Request line.
    QTest::newRow("invalid method character")
        << QByteArray("G(ET / HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "invalid character in method";
    QTest::newRow("HTAB after method")
        << QByteArray("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "invalid character in method";
    QTest::newRow("request line starts with space")
        << QByteArray(" GET / HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "invalid character in method";
    QTest::newRow("method only") << QByteArray("GET\r\n\r\n") << 400 << "malformed request line";
    QTest::newRow("empty target") << QByteArray("GET  HTTP/1.1\r\nHost: x\r\n\r\n") << 400
                                  << "empty request target";
    QTest::newRow("two spaces before target")
        << QByteArray("GET  / HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "empty request target";
    QTest::newRow("relative target")
        << QByteArray("GET foo HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "invalid request target";
    QTest::newRow("asterisk for GET") << QByteArray("GET * HTTP/1.1\r\nHost: x\r\n\r\n") << 400
                                      << "asterisk-form target is only allowed for OPTIONS";
    QTest::newRow("other scheme") << QByteArray("GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n") << 400
                                  << "invalid request target";
    QTest::newRow("absolute-form without host")
        << QByteArray("GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n") << 400
        << "invalid authority in request target";
    QTest::newRow("absolute-form with userinfo")
        << QByteArray("GET http://u@evil.test/ HTTP/1.1\r\nHost: x\r\n\r\n") << 400
        << "invalid authority in request target";
    QTest::newRow("fragment in target") << QByteArray("GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n") << 400
                                        << "invalid character in request target";
    QTest::newRow("control character in target")
        << QByteArray("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n") << 400
        << "invalid character in request target";
    QTest::newRow("CONNECT with origin-form") << QByteArray("CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n")
                                              << 400 << "CONNECT needs an authority-form target";
    QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\nHost: x\r\n\r\n") << 505
                              << "HTTP version not supported";
    QTest::newRow("HTTP/1.2") << QByteArray("GET / HTTP/1.2\r\nHost: x\r\n\r\n") << 505
                              << "HTTP version not supported";
    QTest::newRow("HTTP/0.9") << QByteArray("GET /\r\n\r\n") << 505 << "HTTP/0.9 is not supported";
    QTest::newRow("lower-case version")
        << QByteArray("GET / http/1.1\r\nHost: x\r\n\r\n") << 400 << "invalid HTTP version";
    QTest::newRow("version with three digits")
        << QByteArray("GET / HTTP/1.10\r\nHost: x\r\n\r\n") << 400 << "invalid HTTP version";
    QTest::newRow("space after version")
        << QByteArray("GET / HTTP/1.1 \r\nHost: x\r\n\r\n") << 400 << "invalid HTTP version";

    // Host.
    QTest::newRow("missing Host") << QByteArray("GET / HTTP/1.1\r\nX-A: 1\r\n\r\n") << 400
                                  << "missing Host header";
    QTest::newRow("two Host headers")
        << get("host: other.test\r\n") << 400 << "more than one Host header";
    QTest::newRow("two Host headers on HTTP/1.0")
        << QByteArray("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") << 400
        << "more than one Host header";
    QTest::newRow("Host with path")
        << QByteArray("GET / HTTP/1.1\r\nHost: a.test/x\r\n\r\n") << 400 << "invalid Host header";
    QTest::newRow("Host with userinfo")
        << QByteArray("GET / HTTP/1.1\r\nHost: u@a.test\r\n\r\n") << 400 << "invalid Host header";
  }
  void rejectsInvalidRequests() {
    QFETCH(QByteArray, in);
    QFETCH(int, status);
    QFETCH(QString, message);
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::error);
    QCOMPARE(err.status, status);
    QCOMPARE(QString::fromLatin1(err.message.data(), int(err.message.size())), message);
    // An error leaves the head ready for a new message.
    const QByteArray ok = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    QCOMPARE(parseRequestHead(ok.constData(), std::size_t(ok.size()), Limits{}, h, err),
             ParseStatus::complete);
  }

  // The value and target scans go 8 bytes at a time; every byte position must be checked.
  void checksEveryByteOfLongValuesAndTargets() {
    RequestHead h;
    ParseError err;
    for (int pos = 0; pos < 40; ++pos) {
      for (char bad : {'\0', '\x01', '\x0b', '\x1f', '\x7f', '\r', '\n'}) {
        QByteArray value(40, 'v');
        value[pos] = bad;
        QCOMPARE(parse(get("X-Long: a" + value + "z\r\n"), h, err), ParseStatus::error);
        QCOMPARE(err.status, 400);
      }
      for (char good : {'\t', ' ', '\x80', '\xff', '~', '!'}) {
        QByteArray value(40, 'v');
        value[pos] = good;
        QCOMPARE(parse(get("X-Long: a" + value + "z\r\n"), h, err), ParseStatus::complete);
        QCOMPARE(h.headers[1].value.len, std::uint32_t(42));
      }
      for (char bad : {'\0', '\x01', '\x7f', '#', '\x80', '\xff', '\t'}) {
        QByteArray target = "/" + QByteArray(40, 't');
        target[pos + 1] = bad;
        QCOMPARE(parse("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", h, err),
                 ParseStatus::error);
        QCOMPARE(err.status, 400);
      }
      QByteArray target = "/" + QByteArray(40, 't');
      target[pos + 1] = '~';
      QCOMPARE(parse("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", h, err),
               ParseStatus::complete);
      QCOMPARE(h.target.len, std::uint32_t(41));
    }
  }

  void enforcesSizeLimits_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<int>("maxRequestLine");
    QTest::addColumn<int>("maxHeaderBytes");
    QTest::addColumn<int>("maxHeaders");
    QTest::addColumn<int>("status");  // 0: complete

    const QByteArray line = "GET /" + QByteArray(14, 'a') + " HTTP/1.1\r\n";  // 28 + CRLF
    const QByteArray head = line + "Host: x\r\n\r\n";
    QTest::newRow("request line at limit") << head << 28 << 1024 << 10 << 0;
    QTest::newRow("request line over limit") << head << 27 << 1024 << 10 << 414;
    QTest::newRow("request line over limit, incomplete")
        << QByteArray("GET /" + QByteArray(40, 'a')) << 27 << 1024 << 10 << 414;
    QTest::newRow("request line over default limit, incomplete")
        << QByteArray("GET /" + QByteArray(8200, 'a')) << 8192 << 65536 << 100 << 414;
    QTest::newRow("head at limit") << head << 100 << int(head.size()) << 10 << 0;
    QTest::newRow("head over limit") << head << 100 << int(head.size()) - 1 << 10 << 431;
    QTest::newRow("head over limit, incomplete")
        << QByteArray(line + "X-Long: " + QByteArray(200, 'v')) << 100 << 100 << 10 << 431;
    QTest::newRow("head over default limit, incomplete")
        << QByteArray(line + "Host: x\r\nX-Long: " + QByteArray(70000, 'v')) << 8192 << 65536 << 100
        << 431;
    QTest::newRow("leading empty lines count")
        << QByteArray(QByteArray("\r\n").repeated(60) + head) << 100 << 100 << 10 << 431;
    QTest::newRow("headers at limit") << get(manyHeaders(9)) << 100 << 1024 << 10 << 0;
    QTest::newRow("headers over limit") << get(manyHeaders(10)) << 100 << 1024 << 10 << 431;
    QTest::newRow("headers over limit, incomplete")
        << QByteArray("GET / HTTP/1.1\r\n" + manyHeaders(2) + "X") << 100 << 1024 << 2 << 431;
  }
  void enforcesSizeLimits() {
    QFETCH(QByteArray, in);
    QFETCH(int, maxRequestLine);
    QFETCH(int, maxHeaderBytes);
    QFETCH(int, maxHeaders);
    QFETCH(int, status);
    Limits l;
    l.maxRequestLine = std::size_t(maxRequestLine);
    l.maxHeaderBytes = std::size_t(maxHeaderBytes);
    l.maxHeaders = std::size_t(maxHeaders);
    RequestHead h;
    ParseError err;
    const ParseStatus s = parse(in, h, err, l);
    if (status == 0) {
      QCOMPARE(s, ParseStatus::complete);
    } else {
      QCOMPARE(s, ParseStatus::error);
      QCOMPARE(err.status, status);
    }
  }

  void limitsHoldWhenFedInPieces() {
    // A slow client: the limit fires on the call that crosses it, not when the head ends.
    Limits l;
    l.maxHeaderBytes = 64;
    const QByteArray in = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + QByteArray(100, 'v');
    RequestHead h;
    ParseError err;
    for (int n = 1; n <= in.size(); ++n) {
      const ParseStatus s = parseRequestHead(in.constData(), std::size_t(n), l, h, err);
      if (n < 64) {
        QCOMPARE(s, ParseStatus::incomplete);
      } else {
        QCOMPARE(s, ParseStatus::error);
        QCOMPARE(err.status, 431);
        break;
      }
    }
  }

  void acceptsBareLfOnlyWhenAllowed() {
    const QByteArray in = "\nGET / HTTP/1.1\nHost: x\r\nX-A: 1\n\n";
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::error);
    Limits l;
    l.acceptBareLf = true;
    QCOMPARE(parse(in, h, err, l), ParseStatus::complete);
    QCOMPARE(h.headEnd, std::uint32_t(in.size()));
    QCOMPARE(text(in.constData(), h.headers[0].value), QString("x"));
    QCOMPARE(text(in.constData(), h.headers[1].value), QString("1"));
    // A bare CR stays an error.
    QCOMPARE(parse("GET / HTTP/1.1\nHost: x\r\r\n\n", h, err, l), ParseStatus::error);
  }

  void marksHopByHopHeaders() {
    const QByteArray in =
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Private, Host, Content-Length\r\n"
        "Keep-Alive: timeout=5\r\nX-Private: 1\r\nx-private: 2\r\nTE: trailers\r\n"
        "Proxy-Connection: keep-alive\r\nUpgrade: websocket\r\nTrailer: X-Sum\r\n"
        "Content-Length: 0\r\nX-Public: 3\r\n\r\n";
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::complete);
    QStringList hop;
    for (std::size_t i = 0; i < h.headers.size(); ++i)
      if (h.isHopByHop(i)) hop << text(in.constData(), h.headers[i].name);
    QCOMPARE(hop, QStringList({"Connection", "Keep-Alive", "X-Private", "x-private", "TE",
                               "Proxy-Connection", "Upgrade", "Trailer"}));
    QCOMPARE(h.headers[0].id, HeaderId::host);
    QCOMPARE(h.headers[1].id, HeaderId::connection);
    QVERIFY(h.keepAlive);
    QVERIFY(!h.upgrade);  // Connection does not list "upgrade"
  }

  void detectsExpectContinueAndUpgrade_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<bool>("expectContinue");
    QTest::addColumn<bool>("upgrade");
    QTest::newRow("100-continue") << post("Content-Length: 3\r\nExpect: 100-Continue\r\n") << true
                                  << false;
    QTest::newRow("other expectation")
        << post("Content-Length: 3\r\nExpect: x\r\n") << false << false;
    QTest::newRow("100-continue on HTTP/1.0")
        << QByteArray("POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        << false << false;
    QTest::newRow("websocket upgrade")
        << get("Connection: Upgrade\r\nUpgrade: websocket\r\n") << false << true;
    QTest::newRow("Upgrade without Connection option")
        << get("Upgrade: websocket\r\n") << false << false;
    QTest::newRow("upgrade on HTTP/1.0")
        << QByteArray("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n") << false
        << false;
  }
  void detectsExpectContinueAndUpgrade() {
    QFETCH(QByteArray, in);
    QFETCH(bool, expectContinue);
    QFETCH(bool, upgrade);
    RequestHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::complete);
    QCOMPARE(h.expectContinue, expectContinue);
    QCOMPARE(h.upgrade, upgrade);
  }

  void mapsMethodNames() {
    QCOMPARE(methodFromName("GET"), Method::get);
    QCOMPARE(methodFromName("HEAD"), Method::head);
    QCOMPARE(methodFromName("POST"), Method::post);
    QCOMPARE(methodFromName("PUT"), Method::put);
    QCOMPARE(methodFromName("DELETE"), Method::delete_);
    QCOMPARE(methodFromName("PATCH"), Method::patch);
    QCOMPARE(methodFromName("OPTIONS"), Method::options);
    QCOMPARE(methodFromName("TRACE"), Method::trace);
    QCOMPARE(methodFromName("CONNECT"), Method::connect);
    QCOMPARE(methodFromName("Get"), Method::other);
    QCOMPARE(methodFromName(""), Method::other);
  }

  void parsesValidResponses_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<int>("minor");
    QTest::addColumn<bool>("keepAlive");
    QTest::addColumn<bool>("noBody");
    QTest::addColumn<bool>("untilClose");
    QTest::addColumn<qint64>("contentLength");
    QTest::addColumn<bool>("chunked");

    QTest::newRow("200 with length")
        << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n") << 200 << "OK" << 1 << true
        << false << false << qint64(5) << false;
    QTest::newRow("404 reason with spaces")
        << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") << 404 << "Not Found"
        << 1 << true << false << false << qint64(0) << false;
    QTest::newRow("chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                             << 200 << "OK" << 1 << true << false << false << qint64(-1) << true;
    QTest::newRow("gzip then chunked")
        << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") << 200 << "OK"
        << 1 << true << false << false << qint64(-1) << true;
    QTest::newRow("final coding not chunked")
        << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") << 200 << "OK"
        << 1 << false << false << true << qint64(-1) << false;
    QTest::newRow("no length: until close") << QByteArray("HTTP/1.1 200 OK\r\n\r\n") << 200 << "OK"
                                            << 1 << false << false << true << qint64(-1) << false;
    QTest::newRow("204") << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << 204 << "No Content"
                         << 1 << true << true << false << qint64(-1) << false;
    QTest::newRow("304 with length")
        << QByteArray("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n") << 304
        << "Not Modified" << 1 << true << true << false << qint64(10) << false;
    QTest::newRow("100 Continue") << QByteArray("HTTP/1.1 100 Continue\r\n\r\n") << 100
                                  << "Continue" << 1 << true << true << false << qint64(-1)
                                  << false;
    QTest::newRow("101") << QByteArray(
                                "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                                "Upgrade: websocket\r\n\r\n")
                         << 101 << "Switching Protocols" << 1 << true << true << false << qint64(-1)
                         << false;
    QTest::newRow("Connection close")
        << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n") << 200
        << "OK" << 1 << false << false << false << qint64(1) << false;
    QTest::newRow("HTTP/1.0 closes by default")
        << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n") << 200 << "OK" << 0 << false
        << false << false << qint64(1) << false;
    QTest::newRow("HTTP/1.0 keep-alive")
        << QByteArray("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n")
        << 200 << "OK" << 0 << true << false << false << qint64(1) << false;
    QTest::newRow("no reason") << QByteArray("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n") << 200
                               << "" << 1 << true << false << false << qint64(0) << false;
    QTest::newRow("empty reason") << QByteArray("HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n") << 500
                                  << "" << 1 << true << false << false << qint64(0) << false;
  }
  void parsesValidResponses() {
    QFETCH(QByteArray, in);
    QFETCH(int, status);
    QFETCH(QString, reason);
    QFETCH(int, minor);
    QFETCH(bool, keepAlive);
    QFETCH(bool, noBody);
    QFETCH(bool, untilClose);
    QFETCH(qint64, contentLength);
    QFETCH(bool, chunked);
    ResponseHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::complete);
    QCOMPARE(h.headEnd, std::uint32_t(in.size()));
    QCOMPARE(h.status, status);
    QCOMPARE(text(in.constData(), h.reason), reason);
    QCOMPARE(h.versionMinor, minor);
    QCOMPARE(h.keepAlive, keepAlive);
    QCOMPARE(h.noBody, noBody);
    QCOMPARE(h.untilClose, untilClose);
    QCOMPARE(qint64(h.contentLength), contentLength);
    QCOMPARE(h.chunked, chunked);
  }

  void rejectsInvalidResponses_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<QString>("message");
    QTest::newRow("chunked and Content-Length")
        << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")
        << "both Content-Length and Transfer-Encoding";
    QTest::newRow("differing Content-Length")
        << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n")
        << "conflicting Content-Length values";
    QTest::newRow("chunked twice")
        << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n")
        << "chunked applied more than once";
    QTest::newRow("Transfer-Encoding in HTTP/1.0")
        << QByteArray("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        << "Transfer-Encoding in an HTTP/1.0 message";
    QTest::newRow("HTTP/2.0") << QByteArray("HTTP/2.0 200 OK\r\n\r\n")
                              << "HTTP version not supported";
    QTest::newRow("two-digit status")
        << QByteArray("HTTP/1.1 20 OK\r\n\r\n") << "invalid status code";
    QTest::newRow("status below 100")
        << QByteArray("HTTP/1.1 099 X\r\n\r\n") << "invalid status code";
    QTest::newRow("four-digit status")
        << QByteArray("HTTP/1.1 2000 OK\r\n\r\n") << "invalid status code";
    QTest::newRow("not HTTP") << QByteArray("ICY 200 OK\r\n\r\n") << "invalid status line";
    QTest::newRow("control character in reason")
        << QByteArray("HTTP/1.1 200 O\x01K\r\n\r\n") << "invalid character in reason phrase";
    QTest::newRow("leading empty line")
        << QByteArray("\r\nHTTP/1.1 200 OK\r\n\r\n") << "invalid status line";
    QTest::newRow("obs-fold") << QByteArray("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n")
                              << "obsolete line folding is not allowed";
  }
  void rejectsInvalidResponses() {
    QFETCH(QByteArray, in);
    QFETCH(QString, message);
    ResponseHead h;
    ParseError err;
    QCOMPARE(parse(in, h, err), ParseStatus::error);
    QCOMPARE(err.status, 502);
    QCOMPARE(QString::fromLatin1(err.message.data(), int(err.message.size())), message);
  }

  void responseByteByByteIsIncompleteUntilTheLastByte() {
    const QByteArray in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n";
    ResponseHead h;
    ParseError err;
    for (int n = 1; n < in.size(); ++n)
      QCOMPARE(parseResponseHead(in.constData(), std::size_t(n), Limits{}, h, err),
               ParseStatus::incomplete);
    QCOMPARE(parseResponseHead(in.constData(), std::size_t(in.size()), Limits{}, h, err),
             ParseStatus::complete);
    QCOMPARE(h.contentLength, std::int64_t(2));
    QCOMPARE(h.headEnd, std::uint32_t(in.size()));
  }
};

QTEST_GUILESS_MAIN(HeadParserTest)
#include "head_parser_test.moc"
