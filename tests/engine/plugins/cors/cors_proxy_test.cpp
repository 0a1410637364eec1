// cors through the real proxy: preflights answered by the gateway without reaching the
// upstream, simple responses decorated, preflight_continue passing OPTIONS upstream.
#include <QtTest>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: api\n"
    "    paths: [/api]\n"
    "    plugins:\n"
    "    - name: cors\n"
    "      config:\n"
    "        origins: ['http://a.test', 'https://.*\\.b\\.test']\n"
    "        credentials: true\n"
    "        max_age: 60\n"
    "        exposed_headers: [X-Total]\n"
    "  - name: cont\n"
    "    paths: [/cont]\n"
    "    plugins:\n"
    "    - name: cors\n"
    "      config: {preflight_continue: true}\n";

}  // namespace

class CorsProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void preflightIsAnsweredByTheGateway() {
    Gateway gw(kYaml);
    auto r = gw.send("OPTIONS", "/api/items",
                     {{"Origin", "http://a.test"},
                      {"Access-Control-Request-Method", "PUT"},
                      {"Access-Control-Request-Headers", "X-Foo, Content-Type"}});
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.empty());
    QCOMPARE(r.header("access-control-allow-origin"), std::string("http://a.test"));
    QCOMPARE(r.header("access-control-allow-methods"),
             std::string("GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"));
    QCOMPARE(r.header("access-control-allow-headers"), std::string("X-Foo, Content-Type"));
    QCOMPARE(r.header("access-control-max-age"), std::string("60"));
    QCOMPARE(r.header("access-control-allow-credentials"), std::string("true"));
    QCOMPARE(r.header("vary"), std::string("Origin"));
    QCOMPARE(r.header("content-length"), std::string("0"));
    QVERIFY(!r.has("access-control-expose-headers"));
    QCOMPARE(gw.upstream().requests(), 0);
  }

  void simpleResponseCarriesCorsHeaders() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/api/items", {{"Origin", "https://shop.b.test"}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("access-control-allow-origin"), std::string("https://shop.b.test"));
    QCOMPARE(r.header("access-control-allow-credentials"), std::string("true"));
    QCOMPARE(r.header("access-control-expose-headers"), std::string("X-Total"));
    QCOMPARE(r.header("vary"), std::string("Origin"));
    QVERIFY(!r.has("access-control-allow-methods"));
    QCOMPARE(gw.upstream().requests(), 1);
  }

  void unknownOriginGetsNoAllowOrigin() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/api/items", {{"Origin", "https://b.test.evil.net"}});
    QCOMPARE(r.status, 200);
    QVERIFY(!r.has("access-control-allow-origin"));
    QCOMPARE(r.header("vary"), std::string("Origin"));
    auto pre = gw.send("OPTIONS", "/api/items",
                       {{"Origin", "http://evil.test"}, {"Access-Control-Request-Method", "GET"}});
    QCOMPARE(pre.status, 200);
    QVERIFY(!pre.has("access-control-allow-origin"));
  }

  void preflightContinueReachesTheUpstream() {
    Gateway gw(kYaml);
    auto r = gw.send("OPTIONS", "/cont/x",
                     {{"Origin", "http://a.test"}, {"Access-Control-Request-Method", "GET"}});
    QCOMPARE(r.status, 200);
    QCOMPARE(gw.upstream().requests(), 1);
    QVERIFY(r.body.find("\"method\":\"OPTIONS\"") != std::string::npos);
    QVERIFY(!r.has("access-control-allow-origin"));
  }
};

QTEST_GUILESS_MAIN(CorsProxyTest)
#include "cors_proxy_test.moc"
