// rate-limiting through the real proxy: 429 after the limit with Kong's headers on proxied and
// refused responses, counts shared by all workers and kept across a config reload, and the
// redis policy (the asynchronous access phase) against a redis-server of the test's own.
#include <QtTest>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "../request_transformer/gateway.h"
#include "config/declarative.h"
#include "redis_server.h"

using plugintest::Gateway;

namespace {

std::string yaml(const std::string& pluginConfig) {
  return "_format_version: '3.0'\n"
         "services:\n"
         "- name: up\n"
         "  url: UPSTREAM\n"
         "  routes:\n"
         "  - name: limited\n"
         "    paths: [/limited]\n"
         "    plugins:\n"
         "    - name: rate-limiting\n"
         "      config: " +
         pluginConfig +
         "\n"
         "  - name: free\n"
         "    paths: [/free]\n";
}

// Fixed windows reset on the wall clock's minute: start a test early enough in a minute that
// it cannot straddle a boundary.
void awayFromMinuteEnd() {
  for (;;) {
    const std::time_t now = std::time(nullptr);
    if (now % 60 < 50) return;
    QThread::msleep(200);
  }
}

}  // namespace

class RateLimitingProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void limitThenTooManyRequestsWithHeaders() {
    awayFromMinuteEnd();
    Gateway gw(yaml("{minute: 3, limit_by: ip}"));
    for (int i = 0; i < 3; ++i) {
      auto r = gw.send("GET", "/limited/x");
      QCOMPARE(r.status, 200);
      QCOMPARE(r.header("x-ratelimit-limit-minute"), std::string("3"));
      QCOMPARE(r.header("x-ratelimit-remaining-minute"), std::to_string(2 - i));
      QCOMPARE(r.header("ratelimit-limit"), std::string("3"));
      QCOMPARE(r.header("ratelimit-remaining"), std::to_string(2 - i));
      const int reset = std::stoi(r.header("ratelimit-reset"));
      QVERIFY(reset >= 1 && reset <= 60);
      QVERIFY(!r.has("retry-after"));
    }
    auto refused = gw.send("GET", "/limited/x");
    QCOMPARE(refused.status, 429);
    QCOMPARE(boost::json::parse(refused.body).at("message").as_string(),
             boost::json::string("API rate limit exceeded"));
    QCOMPARE(refused.header("x-ratelimit-remaining-minute"), std::string("0"));
    QCOMPARE(refused.header("ratelimit-remaining"), std::string("0"));
    QCOMPARE(refused.header("retry-after"), refused.header("ratelimit-reset"));
    QVERIFY(refused.header("content-type").find("application/json") == 0);
    QCOMPARE(gw.upstream().requests(), 3);
    // Another route has no limit.
    auto free = gw.send("GET", "/free/x");
    QCOMPARE(free.status, 200);
    QVERIFY(!free.has("x-ratelimit-limit-minute"));
  }

  void workersShareTheCount() {
    awayFromMinuteEnd();
    Gateway gw(yaml("{minute: 20, limit_by: ip}"), 2);
    int ok = 0, limited = 0;
    for (int i = 0; i < 40; ++i) {  // a new connection each, spread over the workers
      auto r = gw.send("GET", "/limited/y");
      if (r.status == 200) ++ok;
      if (r.status == 429) ++limited;
    }
    QCOMPARE(ok, 20);
    QCOMPARE(limited, 20);
  }

  void countsSurviveAReload() {
    awayFromMinuteEnd();
    const std::string config = yaml("{minute: 3, limit_by: ip}");
    Gateway gw(config);
    QCOMPARE(gw.send("GET", "/limited/z").status, 200);
    QCOMPARE(gw.send("GET", "/limited/z").status, 200);
    // The same plugin (same derived id) in a changed config: a new snapshot, the same counts.
    std::string changed = config + "  - name: more\n    paths: [/more]\n";
    const std::string base = "http://127.0.0.1:" + std::to_string(gw.upstream().port());
    changed.replace(changed.find("UPSTREAM"), 8, base);
    auto parsed = archway::config::parseDeclarative(changed);
    QVERIFY2(parsed.ok(), parsed.errorText().c_str());
    auto applied = gw.engine().applyConfig(std::move(*parsed));
    QVERIFY2(applied.ok(), applied.errorText().c_str());
    QCOMPARE(gw.send("GET", "/more/z").status, 200);
    auto third = gw.send("GET", "/limited/z");
    QCOMPARE(third.status, 200);
    QCOMPARE(third.header("x-ratelimit-remaining-minute"), std::string("0"));
    QCOMPARE(gw.send("GET", "/limited/z").status, 429);
  }

  void redisPolicyThroughTheProxy() {
    if (QStandardPaths::findExecutable("redis-server").isEmpty())
      QSKIP("redis-server is not installed");
    plugintest::RedisServer redis;
    QVERIFY(redis.start());
    awayFromMinuteEnd();
    Gateway gw(yaml("{minute: 2, limit_by: ip, policy: redis, redis: {host: 127.0.0.1, port: " +
                    std::to_string(redis.port()) + "}}"),
               2);
    QCOMPARE(gw.send("GET", "/limited/r").status, 200);
    auto second = gw.send("GET", "/limited/r");
    QCOMPARE(second.status, 200);
    QCOMPARE(second.header("x-ratelimit-remaining-minute"), std::string("0"));
    auto refused = gw.send("GET", "/limited/r");
    QCOMPARE(refused.status, 429);
    QVERIFY(refused.has("retry-after"));
    QCOMPARE(gw.upstream().requests(), 2);
    // Redis holds the count under Kong's key for this route.
    auto keys = redis.run({"KEYS", "ratelimit:*:127.0.0.1:*:minute"});
    QCOMPARE(keys.elements.size(), std::size_t(1));
    QCOMPARE(redis.run({"GET", keys.elements[0].text}).text, std::string("3"));
    // Redis gone, fault_tolerant (the default): requests pass without rate-limit headers.
    redis.kill();
    auto through = gw.send("GET", "/limited/r");
    QCOMPARE(through.status, 200);
    QVERIFY(!through.has("x-ratelimit-limit-minute"));
  }
};

QTEST_GUILESS_MAIN(RateLimitingProxyTest)
#include "rate_limiting_proxy_test.moc"
