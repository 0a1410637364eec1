// HTTP/1.1 behaviour of the proxy on the wire: raw bytes in, raw bytes out. Hostile shapes
// (request smuggling, oversize heads, bad versions) get a clear status and a closed
// connection; legitimate shapes (chunked, pipelining, HEAD, 100-continue, large bodies) are
// relayed intact.
#include <QtTest>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "config/declarative.h"
#include "runtime/engine.h"
#include "test_upstream.h"

using namespace archway;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Sends raw bytes, then reads until the peer closes or `timeoutMs` passes without data.
std::string roundTrip(unsigned short port, const std::string& bytes, int timeoutMs = 1500) {
  asio::io_context ctx;
  tcp::socket s(ctx);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(bytes));
  std::string out;
  char buf[65536];
  s.non_blocking(true);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec) return out + "<closed>";
    out.append(buf, n);
  }
  return out;
}

int countOf(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

class ProxyHttpTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<TestUpstream> up_;
  std::unique_ptr<runtime::Engine> engine_;
  unsigned short port_ = 0;

 private slots:
  void initTestCase() {
    up_ = std::make_unique<TestUpstream>();
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:" +
        std::to_string(up_->port()) +
        "\n  routes: [{name: r, paths: [/]}, {name: s, paths: [/stream], strip_path: false, "
        "request_buffering: false}]\n");
    QVERIFY(c.ok());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    o.maxHeaderBytes = 16384;  // above the 8 KiB request-line limit, so 414 and 431 differ
    engine_ = std::make_unique<runtime::Engine>();
    QVERIFY(engine_->start(o, std::move(*c)).ok());
    port_ = engine_->proxyPort();
  }
  void cleanupTestCase() {
    engine_->stop();
    engine_.reset();
    up_.reset();
  }

  void rejectsHostileShapes_data() {
    QTest::addColumn<QString>("request");
    QTest::addColumn<QString>("status");
    const QString host = "Host: a\r\n";
    QTest::newRow("content-length with transfer-encoding")
        << "POST / HTTP/1.1\r\n" + host +
               "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        << "400";
    QTest::newRow("differing content-lengths")
        << "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
        << "400";
    QTest::newRow("bad chunk size")
        << "POST / HTTP/1.1\r\n" + host +
               "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
        << "400";
    QTest::newRow("obs-fold") << "GET / HTTP/1.1\r\n" + host + "X-A: b\r\n c\r\n\r\n"
                              << "400";
    QTest::newRow("space before colon") << "GET / HTTP/1.1\r\n" + host + "X-A : b\r\n\r\n"
                                        << "400";
    QTest::newRow("control character") << "GET / HTTP/1.1\r\n" + host +
                                              "X-A: b\x01"
                                              "c\r\n\r\n"
                                       << "400";
    QTest::newRow("missing host") << "GET / HTTP/1.1\r\n\r\n"
                                  << "400";
    QTest::newRow("unknown version") << "GET / HTTP/1.7\r\n" + host + "\r\n"
                                     << "505";
    QTest::newRow("unknown transfer coding")
        << "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n"
        << "501";
    QTest::newRow("request line too long")
        << "GET /" + QString(9000, 'a') + " HTTP/1.1\r\n" + host + "\r\n"
        << "414";
    QTest::newRow("headers too large")
        << "GET / HTTP/1.1\r\n" + host + "X-Big: " + QString(20000, 'b') + "\r\n\r\n"
        << "431";
  }
  void rejectsHostileShapes() {
    QFETCH(QString, request);
    QFETCH(QString, status);
    std::string r = roundTrip(port_, request.toStdString());
    QVERIFY2(r.rfind("HTTP/1.1 " + status.toStdString(), 0) == 0, r.c_str());
    QVERIFY2(r.find("Connection: close") != std::string::npos, r.c_str());
    QVERIFY2(r.find("<closed>") != std::string::npos, "the connection must be closed");
    QVERIFY(r.find("{\"message\":") != std::string::npos);
  }

  void keepsServingAfterHostileInput() {
    roundTrip(port_, "GARBAGE\r\n\r\n", 300);
    std::string r = roundTrip(port_, "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    QVERIFY2(r.rfind("HTTP/1.1 200", 0) == 0, r.c_str());
  }

  void relaysChunkedRequestBodies() {
    std::string r = roundTrip(
        port_,
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    QVERIFY2(r.rfind("HTTP/1.1 200", 0) == 0, r.c_str());
    QCOMPARE(up_->last().headers["transfer-encoding"], std::string("chunked"));
    QCOMPARE(up_->last().bodySize, std::size_t{11});
  }

  void answersPipelinedRequestsInOrder() {
    std::string r =
        roundTrip(port_,
                  "GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /p3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    QCOMPARE(countOf(r, "HTTP/1.1 200"), 3);
    QCOMPARE(up_->last().target, std::string("/p3"));
  }

  void headResponsesHaveNoBody() {
    std::string r = roundTrip(port_,
                              "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: "
                              "a\r\nConnection: close\r\n\r\n");
    QCOMPARE(countOf(r, "HTTP/1.1 200"), 2);
    QCOMPARE(countOf(r, "\r\n\r\nok"), 1);  // only the GET carries "ok"
  }

  void answersExpectContinueBeforeTheBody() {
    asio::io_context ctx;
    tcp::socket s(ctx);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    asio::write(
        s,
        asio::buffer(std::string(
            "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")));
    char buf[256];
    std::size_t n = s.read_some(asio::buffer(buf));
    QCOMPARE(std::string(buf, n), std::string("HTTP/1.1 100 Continue\r\n\r\n"));
    asio::write(s, asio::buffer(std::string("body")));
    n = s.read_some(asio::buffer(buf));
    QVERIFY(std::string(buf, n).rfind("HTTP/1.1 200", 0) == 0);
    QVERIFY(up_->last().headers.count("expect") == 0);
  }

  // request_buffering (the default) holds the body until it is complete before it takes an
  // upstream connection; request_buffering: false streams it as it comes.
  void buffersRequestBodiesUnlessTheRouteStreams_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("upstreamSeesHalfBody");
    QTest::newRow("buffered") << "/buffered" << false;
    QTest::newRow("streamed") << "/stream" << true;
  }
  void buffersRequestBodiesUnlessTheRouteStreams() {
    QFETCH(QString, path);
    QFETCH(bool, upstreamSeesHalfBody);
    TestUpstream up;
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:" +
        std::to_string(up.port()) +
        "\n  routes: [{name: r, paths: [/]}, {name: s, paths: [/stream], "
        "strip_path: false, request_buffering: false}]\n");
    QVERIFY(c.ok());
    runtime::Engine engine;
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    QVERIFY(engine.start(o, std::move(*c)).ok());
    asio::io_context ctx;
    tcp::socket s(ctx);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), engine.proxyPort()));
    asio::write(
        s, asio::buffer(
               "POST " + path.toStdString() +
               " HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello"));
    if (upstreamSeesHalfBody) {
      QTRY_COMPARE(up.connections(), 1);
    } else {
      QTest::qWait(300);
      QCOMPARE(up.connections(), 0);
    }
    asio::write(s, asio::buffer(std::string("world")));
    std::string response;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(response), ec);  // until the proxy closes
    QVERIFY2(response.rfind("HTTP/1.1 200", 0) == 0, response.c_str());
    QCOMPARE(up.last().bodySize, std::size_t{10});
    engine.stop();
  }

  // A client that stops half-way through its head is dropped after the client timeout (Kong's
  // client_header_timeout), and others are not delayed meanwhile.
  void dropsClientsThatStallMidHead() {
    TestUpstream up;
    auto c = config::parseDeclarative("_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:" +
                                      std::to_string(up.port()) + "\n  routes: [{name: r, paths: [/]}]\n");
    QVERIFY(c.ok());
    runtime::Engine engine;
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    o.clientTimeout = std::chrono::seconds(1);
    QVERIFY(engine.start(o, std::move(*c)).ok());
    asio::io_context ctx;
    tcp::socket slow(ctx);
    slow.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), engine.proxyPort()));
    asio::write(slow, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: a\r\nX-Half")));
    // Meanwhile a normal client is served at once.
    std::string r = roundTrip(engine.proxyPort(), "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    QVERIFY2(r.rfind("HTTP/1.1 200", 0) == 0, r.c_str());
    // The stalled one is closed by the gateway after about a second.
    char buf[64];
    boost::system::error_code ec;
    slow.read_some(asio::buffer(buf), ec);  // returns once the gateway closes it
    QVERIFY(ec == asio::error::eof || ec == asio::error::connection_reset);
    engine.stop();
  }

  void streamsLargeBodiesBothWays() {
    // 8 MiB through a proxy whose buffers are 16-64 KiB: streamed, not buffered whole.
    std::string body(8 * 1024 * 1024, 'x');
    std::string r =
        roundTrip(port_,
                  "POST /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body,
                  3000);
    QVERIFY2(r.rfind("HTTP/1.1 200", 0) == 0, r.substr(0, 200).c_str());
    QCOMPARE(up_->last().bodySize, body.size());
  }
};

QTEST_GUILESS_MAIN(ProxyHttpTest)
#include "proxy_http_test.moc"
