// request-size-limiting through the real proxy: 413 on a Content-Length over the limit before
// the body is read, 417 (and no 100 Continue) for Expect: 100-continue, 411 when a length is
// required, and a chunked body over the limit.
#include <QtTest>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;
namespace asio = boost::asio;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: small\n"
    "    paths: [/small]\n"
    "    plugins:\n"
    "    - name: request-size-limiting\n"
    "      config: {allowed_payload_size: 1, size_unit: kilobytes}\n"
    "  - name: strict\n"
    "    paths: [/strict]\n"
    "    plugins:\n"
    "    - name: request-size-limiting\n"
    "      config: {require_content_length: true}\n";

std::string messageOf(const std::string& body) {
  return std::string(boost::json::parse(body).at("message").as_string());
}

// Sends raw bytes on a fresh connection and returns what the proxy answered until it closed
// the connection or `until` appeared.
std::string exchange(unsigned short port, const std::string& bytes, const std::string& until) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(bytes));
  std::string in;
  boost::system::error_code ec;
  char buf[4096];
  while (in.find(until) == std::string::npos) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    in.append(buf, n);
  }
  return in;
}

}  // namespace

class RequestSizeLimitingProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void bodyOverTheLimitGets413() {
    Gateway gw(kYaml);
    auto r = gw.send("POST", "/small/up", {{"Content-Type", "text/plain"}}, std::string(1025, 'x'));
    QCOMPARE(r.status, 413);
    QCOMPARE(messageOf(r.body), std::string("Request size limit exceeded"));
    QCOMPARE(gw.upstream().requests(), 0);
  }

  void bodyWithinTheLimitIsProxied() {
    Gateway gw(kYaml);
    auto r = gw.send("POST", "/small/up", {{"Content-Type", "text/plain"}}, std::string(1024, 'x'));
    QCOMPARE(r.status, 200);
    QCOMPARE(gw.upstream().requests(), 1);
  }

  void expectContinueGets417BeforeTheBody() {
    Gateway gw(kYaml);
    std::string reply = exchange(gw.engine().proxyPort(),
                                 "POST /small/up HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n"
                                 "Expect: 100-continue\r\n\r\n",
                                 "}");
    QVERIFY2(reply.rfind("HTTP/1.1 417", 0) == 0, reply.c_str());
    QVERIFY(reply.find("Request size limit exceeded") != std::string::npos);
    QCOMPARE(gw.upstream().requests(), 0);
  }

  void lengthRequiredGets411() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/strict/x");
    QCOMPARE(r.status, 411);
    QCOMPARE(messageOf(r.body), std::string("A valid Content-Length header is required"));
    auto ok = gw.send("POST", "/strict/x", {}, "abc");
    QCOMPARE(ok.status, 200);
  }

  void chunkedBodyOverTheLimitGets413() {
    Gateway gw(kYaml);
    std::string req = "POST /small/up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) req += "200\r\n" + std::string(512, 'y') + "\r\n";  // 2 KiB
    req += "0\r\n\r\n";
    std::string reply = exchange(gw.engine().proxyPort(), req, "\r\n\r\n");
    QVERIFY2(reply.rfind("HTTP/1.1 413", 0) == 0, reply.c_str());
  }
};

QTEST_GUILESS_MAIN(RequestSizeLimitingProxyTest)
#include "request_size_limiting_proxy_test.moc"
