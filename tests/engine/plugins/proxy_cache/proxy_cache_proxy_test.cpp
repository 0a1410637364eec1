// proxy-cache through the real proxy with two workers: the second GET is a Hit served without
// the upstream, whichever worker takes it; uncacheable requests and responses bypass.
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
    "  - name: cached\n"
    "    paths: [/cached]\n"
    "    plugins:\n"
    "    - name: proxy-cache\n"
    "      config: {strategy: memory}\n";

}  // namespace

class ProxyCacheProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void secondGetIsAHitAndTheUpstreamSawOneRequest() {
    Gateway gw(kYaml, 2);
    auto first = gw.send("GET", "/cached/item?id=1");
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("x-cache-status"), std::string("Miss"));
    const std::string key = first.header("x-cache-key");
    QCOMPARE(key.size(), std::size_t(64));
    for (int i = 0; i < 6; ++i) {  // fresh connections, spread over both workers
      auto again = gw.send("GET", "/cached/item?id=1");
      QCOMPARE(again.status, 200);
      QCOMPARE(again.header("x-cache-status"), std::string("Hit"));
      QCOMPARE(again.header("x-cache-key"), key);
      QCOMPARE(again.body, first.body);
      QCOMPARE(again.header("content-type"), std::string("application/json"));
      QVERIFY(again.has("age"));
    }
    QCOMPARE(gw.upstream().requests(), 1);

    auto other = gw.send("GET", "/cached/item?id=2");
    QCOMPARE(other.header("x-cache-status"), std::string("Miss"));
    QVERIFY(other.header("x-cache-key") != key);
    QCOMPARE(gw.upstream().requests(), 2);
  }

  void uncacheableRequestsAndResponsesBypass() {
    Gateway gw(kYaml);
    auto post = gw.send("POST", "/cached/item", {}, "x");
    QCOMPARE(post.header("x-cache-status"), std::string("Bypass"));
    QVERIFY(!post.has("x-cache-key"));
    gw.upstream().setResponse("/cs",
                              {200, {{"Content-Type", "application/json; charset=utf-8"}}, "{}"});
    for (int i = 0; i < 2; ++i) {
      auto r = gw.send("GET", "/cached/cs");
      QCOMPARE(r.status, 200);
      QCOMPARE(r.header("x-cache-status"), std::string("Bypass"));
    }
    gw.upstream().setResponse("/err", {500, {{"Content-Type", "text/plain"}}, "boom"});
    QCOMPARE(gw.send("GET", "/cached/err").header("x-cache-status"), std::string("Bypass"));
    QCOMPARE(gw.send("GET", "/cached/err").header("x-cache-status"), std::string("Bypass"));
    QCOMPARE(gw.upstream().requests(), 5);
  }

  void cachedResponseKeepsUpstreamHeaders() {
    Gateway gw(kYaml);
    gw.upstream().setResponse(
        "/hdr", {404, {{"Content-Type", "text/plain"}, {"X-Origin", "up"}}, "not here"});
    auto miss = gw.send("GET", "/cached/hdr");
    QCOMPARE(miss.status, 404);
    QCOMPARE(miss.header("x-cache-status"), std::string("Miss"));
    auto hit = gw.send("GET", "/cached/hdr");
    QCOMPARE(hit.status, 404);
    QCOMPARE(hit.header("x-cache-status"), std::string("Hit"));
    QCOMPARE(hit.header("x-origin"), std::string("up"));
    QCOMPARE(hit.body, std::string("not here"));
    QCOMPARE(gw.upstream().requests(), 1);
  }
};

QTEST_GUILESS_MAIN(ProxyCacheProxyTest)
#include "proxy_cache_proxy_test.moc"
