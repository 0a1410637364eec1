// request-termination through the real proxy: 503 "Service unavailable" without reaching the
// upstream, a trigger that only fires when present, a raw body, and echo.
#include <QtTest>
#include <boost/json.hpp>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: down\n"
    "    paths: [/down]\n"
    "    plugins:\n"
    "    - name: request-termination\n"
    "  - name: maybe\n"
    "    paths: [/maybe]\n"
    "    plugins:\n"
    "    - name: request-termination\n"
    "      config: {status_code: 418, message: teapot, trigger: X-Stop}\n"
    "  - name: html\n"
    "    paths: [/html]\n"
    "    plugins:\n"
    "    - name: request-termination\n"
    "      config: {status_code: 200, body: '<p>maintenance</p>', content_type: text/html}\n"
    "  - name: echo\n"
    "    paths: [/echo]\n"
    "    plugins:\n"
    "    - name: request-termination\n"
    "      config: {status_code: 200, echo: true}\n";

}  // namespace

class RequestTerminationProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void terminatesWith503() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/down/x");
    QCOMPARE(r.status, 503);
    QCOMPARE(r.body, std::string("{\"message\":\"Service unavailable\"}"));
    QCOMPARE(r.header("content-type"), std::string("application/json; charset=utf-8"));
    QCOMPARE(gw.upstream().requests(), 0);
  }

  void triggerDecides() {
    Gateway gw(kYaml);
    QCOMPARE(gw.send("GET", "/maybe/x").status, 200);
    auto stopped = gw.send("GET", "/maybe/x", {{"X-Stop", "1"}});
    QCOMPARE(stopped.status, 418);
    QCOMPARE(stopped.body, std::string("{\"message\":\"teapot\"}"));
    QCOMPARE(gw.send("GET", "/maybe/x?X-Stop").status, 418);
    QCOMPARE(gw.upstream().requests(), 1);
  }

  void rawBody() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/html");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, std::string("<p>maintenance</p>"));
    QCOMPARE(r.header("content-type"), std::string("text/html"));
  }

  void echoReturnsTheRequest() {
    Gateway gw(kYaml);
    auto r = gw.send("POST", "/echo/me?a=1", {{"Content-Type", "application/json"}},
                     "{\"hello\":\"world\"}");
    QCOMPARE(r.status, 200);
    auto doc = boost::json::parse(r.body).as_object();
    const auto& req = doc.at("request").as_object();
    QCOMPARE(req.at("method").as_string(), boost::json::string("POST"));
    QCOMPARE(req.at("path").as_string(), boost::json::string("/echo/me"));
    QCOMPARE(req.at("query").at("a").as_string(), boost::json::string("1"));
    QCOMPARE(req.at("body").at("hello").as_string(), boost::json::string("world"));
    QCOMPARE(doc.at("matched_route").at("name").as_string(), boost::json::string("echo"));
    QCOMPARE(doc.at("matched_service").at("name").as_string(), boost::json::string("up"));
    QCOMPARE(gw.upstream().requests(), 0);
  }
};

QTEST_GUILESS_MAIN(RequestTerminationProxyTest)
#include "request_termination_proxy_test.moc"
