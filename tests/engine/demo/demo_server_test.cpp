#include "demo/demo_server.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <optional>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using archway::demo::DemoServer;

namespace {

using Response = http::response<http::string_body>;

// A blocking HTTP/1.1 client on one connection (keep-alive across calls).
class Client {
 public:
  explicit Client(std::uint16_t port) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void send(http::verb method, const std::string& target, const std::string& body = {},
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "demo.test");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    method_ = method;
    http::write(socket_, req);
  }

  Response receive() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method_ == http::verb::head) parser.skip(true);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  Response request(http::verb method, const std::string& target, const std::string& body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    send(method, target, body, std::move(headers));
    return receive();
  }
  Response get(const std::string& target) { return request(http::verb::get, target); }

  // True when the server closed the connection (EOF or reset) instead of sending more.
  bool readsEof() {
    beast::error_code ec;
    char byte;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ctx_;
  tcp::socket socket_{ctx_};
  beast::flat_buffer buffer_;
  http::verb method_ = http::verb::get;
};

QJsonObject jsonOf(const Response& res) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(res.body())).object();
}

}  // namespace

class DemoServerTest : public QObject {
  Q_OBJECT

 private slots:
  void init() {
    server_ = std::make_unique<DemoServer>();
    auto port = server_->start("127.0.0.1", 0);
    QVERIFY2(port.ok(), port.errorText().c_str());
    port_ = *port;
  }
  void cleanup() { server_.reset(); }

  void startReturnsTheBoundPort() {
    QVERIFY(port_ != 0);
    QCOMPARE(server_->port(), port_);
  }

  void startFailsWhenThePortIsTaken() {
    DemoServer other;
    auto r = other.start("127.0.0.1", port_);
    QVERIFY(!r.ok());
    QVERIFY(!r.errorText().empty());
  }

  void anythingEchoesMethodPathArgsHeadersAndBody() {
    Client c(port_);
    auto res = c.request(http::verb::post, "/anything/deep/path?a=1&b=2&b=x%20y", "hello",
                         {{"X-Test", "yes"}});
    QCOMPARE(res.result_int(), 200u);
    QCOMPARE(std::string(res[http::field::content_type]), std::string("application/json"));
    auto o = jsonOf(res);
    QCOMPARE(o["method"].toString(), QString("POST"));
    QCOMPARE(o["path"].toString(), QString("/anything/deep/path"));
    QCOMPARE(o["url"].toString(), QString("http://demo.test/anything/deep/path?a=1&b=2&b=x%20y"));
    QCOMPARE(o["args"].toObject()["a"].toString(), QString("1"));
    QCOMPARE(o["args"].toObject()["b"].toArray(), (QJsonArray{"2", "x y"}));
    QCOMPARE(o["headers"].toObject()["X-Test"].toString(), QString("yes"));
    QCOMPARE(o["data"].toString(), QString("hello"));
    QCOMPARE(o["origin"].toString(), QString("127.0.0.1"));
  }

  void statusAnswersWithThatCodeAndAnEmptyBody_data() {
    QTest::addColumn<int>("code");
    QTest::newRow("200") << 200;
    QTest::newRow("201") << 201;
    QTest::newRow("418") << 418;
    QTest::newRow("503") << 503;
  }
  void statusAnswersWithThatCodeAndAnEmptyBody() {
    QFETCH(int, code);
    Client c(port_);
    auto res = c.get("/status/" + std::to_string(code));
    QCOMPARE(res.result_int(), static_cast<unsigned>(code));
    QVERIFY(res.body().empty());
    QCOMPARE(std::string(res[http::field::content_length]), std::string("0"));
  }

  void statusNoContentHasNoBodyAndKeepsTheConnection() {
    Client c(port_);
    auto res = c.get("/status/204");
    QCOMPARE(res.result_int(), 204u);
    QVERIFY(res.body().empty());
    QCOMPARE(c.get("/anything").result_int(), 200u);
  }

  void statusRejectsAnInvalidCode_data() {
    QTest::addColumn<QString>("code");
    QTest::newRow("text") << "abc";
    QTest::newRow("too small") << "99";
    QTest::newRow("too large") << "600";
    QTest::newRow("informational") << "100";
  }
  void statusRejectsAnInvalidCode() {
    QFETCH(QString, code);
    Client c(port_);
    auto res = c.get("/status/" + code.toStdString());
    QCOMPARE(res.result_int(), 400u);
    QVERIFY(jsonOf(res).contains("error"));
  }

  void delayAnswersTheEchoAfterTheDelay() {
    Client c(port_);
    QElapsedTimer t;
    t.start();
    auto res = c.get("/delay/0.3?x=1");
    QVERIFY(t.elapsed() >= 250);
    QVERIFY(t.elapsed() < 5000);
    QCOMPARE(res.result_int(), 200u);
    auto o = jsonOf(res);
    QCOMPARE(o["method"].toString(), QString("GET"));
    QCOMPARE(o["args"].toObject()["x"].toString(), QString("1"));
  }

  void delayDoesNotBlockOtherConnections() {
    Client slow(port_);
    slow.send(http::verb::get, "/delay/3");
    Client fast(port_);
    QElapsedTimer t;
    t.start();
    QCOMPARE(fast.get("/anything").result_int(), 200u);
    QVERIFY(t.elapsed() < 2000);
  }

  void delayRejectsInvalidSeconds_data() {
    QTest::addColumn<QString>("seconds");
    QTest::newRow("negative") << "-1";
    QTest::newRow("text") << "soon";
    QTest::newRow("nan") << "nan";
  }
  void delayRejectsInvalidSeconds() {
    QFETCH(QString, seconds);
    Client c(port_);
    QCOMPARE(c.get("/delay/" + seconds.toStdString()).result_int(), 400u);
  }

  void bytesAnswersExactlyNBytes() {
    Client c(port_);
    auto res = c.get("/bytes/1000");
    QCOMPARE(res.result_int(), 200u);
    QCOMPARE(res.body().size(), std::size_t{1000});
    QCOMPARE(std::string(res[http::field::content_type]), std::string("application/octet-stream"));
    QCOMPARE(std::string(res[http::field::content_length]), std::string("1000"));
  }

  void bytesAreCappedAtTenMiB() {
    Client c(port_);
    auto res = c.get("/bytes/99999999");
    QCOMPARE(res.body().size(), std::size_t{10 * 1024 * 1024});
  }

  void bytesRejectsAnInvalidCount() {
    Client c(port_);
    QCOMPARE(c.get("/bytes/-5").result_int(), 400u);
  }

  void headAnswersContentLengthWithoutABody() {
    Client c(port_);
    auto head = c.request(http::verb::head, "/bytes/500");
    QCOMPARE(head.result_int(), 200u);
    QCOMPARE(std::string(head[http::field::content_length]), std::string("500"));
    // Had the server sent the body, it would be read as the next response and fail to parse.
    auto next = c.get("/anything");
    QCOMPARE(next.result_int(), 200u);
    QCOMPARE(jsonOf(next)["method"].toString(), QString("GET"));
  }

  void indexListsTheEndpoints() {
    Client c(port_);
    auto res = c.get("/");
    QCOMPARE(res.result_int(), 200u);
    auto endpoints = jsonOf(res)["endpoints"].toArray();
    QVERIFY(endpoints.contains(QJsonValue("/status/{code}")));
    QVERIFY(endpoints.contains(QJsonValue("/bytes/{n}")));
  }

  void unknownPathAnswers404Json() {
    Client c(port_);
    auto res = c.get("/nope");
    QCOMPARE(res.result_int(), 404u);
    QVERIFY(jsonOf(res).contains("error"));
  }

  void keepAliveServesTwoRequestsOnOneConnection() {
    Client c(port_);
    QCOMPARE(c.get("/anything/1").result_int(), 200u);
    auto second = c.get("/anything/2");
    QCOMPARE(second.result_int(), 200u);
    QCOMPARE(jsonOf(second)["path"].toString(), QString("/anything/2"));
  }

  void connectionCloseRequestClosesTheConnection() {
    Client c(port_);
    auto res = c.request(http::verb::get, "/anything", {}, {{"Connection", "close"}});
    QCOMPARE(res.result_int(), 200u);
    QVERIFY(!res.keep_alive());
    QVERIFY(c.readsEof());
  }

  void stopClosesAnIdleConnectionPromptly() {
    Client c(port_);
    QCOMPARE(c.get("/anything").result_int(), 200u);
    QElapsedTimer t;
    t.start();
    server_->stop();
    QVERIFY(t.elapsed() < 1000);
    QVERIFY(c.readsEof());
    QCOMPARE(server_->port(), std::uint16_t{0});
  }

  void stopReturnsPromptlyDuringADelay() {
    Client c(port_);
    c.send(http::verb::get, "/delay/10");
    QTest::qWait(100);  // let the server start the delay
    QElapsedTimer t;
    t.start();
    server_->stop();
    QVERIFY(t.elapsed() < 1000);
    QVERIFY(c.readsEof());
  }

  void serverWithSeveralThreadsAnswers() {
    DemoServer multi;
    auto port = multi.start("127.0.0.1", 0, 3);
    QVERIFY(port.ok());
    for (int i = 0; i < 4; ++i) {
      Client c(*port);
      QCOMPARE(c.get("/anything").result_int(), 200u);
    }
    multi.stop();
  }

 private:
  std::unique_ptr<DemoServer> server_;
  std::uint16_t port_ = 0;
};

QTEST_GUILESS_MAIN(DemoServerTest)
#include "demo_server_test.moc"
