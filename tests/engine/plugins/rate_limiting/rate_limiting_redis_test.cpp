// rate-limiting with the redis policy against a real redis-server this test starts on a free
// loopback port (and kills at the end): two nodes sharing one limit, Kong's key scheme, pooled
// connections, AUTH + SELECT, Redis dying and coming back (fault_tolerant true / false), a
// timeout, and sync_rate batching.
#include <QtTest>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/head_parser.h"
#include "plugins/plugin.h"
#include "plugins/rate_limiting/rate_limiting.h"
#include "plugins/rate_limiting/redis_client.h"
#include "redis_server.h"

using namespace archway;
using plugintest::RedisServer;
namespace json = boost::json;
namespace asio = boost::asio;
namespace redis = archway::plugins::redis;

namespace {

// 2024-01-01T00:00:20Z: the minute window starts at 1704067200000 ms.
constexpr std::int64_t kT0 = 1704067220000;
constexpr const char* kMinuteStartMs = "1704067200000";
constexpr const char* kRouteId = "aaaaaaaa-0000-0000-0000-00000000000a";

struct ParsedRequest {
  std::string bytes;
  http::RequestHead head;
  explicit ParsedRequest(std::string text) : bytes(std::move(text)) {
    http::Limits limits;
    head.reserve(limits);
    http::ParseError err;
    auto st = http::parseRequestHead(bytes.data(), bytes.size(), limits, head, err);
    if (st != http::ParseStatus::complete) qFatal("request did not parse");
  }
};

struct Outcome {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  std::string h(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<none>") : it->second;
  }
};

// One gateway node: its own persistent objects, worker environment and io_context.
class Node {
 public:
  explicit Node(std::int64_t* clock) {
    plugins::RateLimitingOptions o;
    o.nowMs = [clock] { return *clock; };
    factory_ = plugins::makeRateLimitingPlugin(std::move(o));
    worker_.io = &io_;
  }

  QString compile(const std::string& configJson) {
    auto valid = plugins::schema::validate(factory_->schema(), json::parse(configJson));
    if (!valid) return QString::fromStdString(valid.errorText());
    core::Plugin entity;
    entity.id = "99999999-9999-9999-9999-999999999999";
    entity.name = "rate-limiting";
    entity.routeId = kRouteId;
    plugins::CompileEnv env(config_, persistent_);
    auto inst = factory_->compile(entity, *valid, env);
    if (!inst) return QString::fromStdString(inst.errorText());
    instance_ = *inst;
    return {};
  }

  Outcome run(const std::string& clientIp = "10.1.1.1") {
    io_.restart();
    ParsedRequest parsed("GET /api HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    ctx.bindRequest(&parsed.head, parsed.bytes.data());
    ctx.path = "/api";
    ctx.clientIp = clientIp;
    ctx.worker = &worker_;
    ctx.enter(0);
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          co_await instance_->accessAsync(ctx);
          done = true;
        },
        asio::detached);
    while (!done && io_.run_one_for(std::chrono::seconds(10)) > 0) {
    }
    if (!done) qFatal("access did not finish");
    Outcome o;
    if (ctx.exited()) {
      o.status = ctx.exitStatus();
      o.body = std::string(ctx.exitBody());
    }
    for (const auto& e : ctx.responseEdits) o.headers[e.name] = e.value;
    return o;
  }

  // `n` requests at once on this node's one worker: the access phases interleave on the
  // io_context (each waits on its own pooled connection). Returns how many were let through.
  int runConcurrently(int n, const std::string& clientIp) {
    io_.restart();
    ParsedRequest parsed("GET /api HTTP/1.1\r\nHost: a\r\n\r\n");
    std::vector<std::unique_ptr<plugins::Context>> ctxs;
    int done = 0, passed = 0;
    for (int i = 0; i < n; ++i) {
      auto ctx = std::make_unique<plugins::Context>();
      ctx->bindRequest(&parsed.head, parsed.bytes.data());
      ctx->path = "/api";
      ctx->clientIp = clientIp;
      ctx->worker = &worker_;
      ctx->enter(0);
      plugins::Context* c = ctx.get();
      asio::co_spawn(
          io_,
          [this, c, &done, &passed]() -> asio::awaitable<void> {
            co_await instance_->accessAsync(*c);
            ++done;
            if (!c->exited()) ++passed;
          },
          asio::detached);
      ctxs.push_back(std::move(ctx));
    }
    while (done < n && io_.run_one_for(std::chrono::seconds(10)) > 0) {
    }
    if (done < n) qFatal("concurrent accesses did not finish");
    return passed;
  }

  // Lets timers (sync_rate flushes) run for a while.
  void runFor(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  const plugins::Instance& instance() const { return *instance_; }

 private:
  asio::io_context io_;
  plugins::WorkerEnv worker_;
  std::unique_ptr<plugins::Factory> factory_;
  core::Config config_;
  plugins::Persistent persistent_;
  std::shared_ptr<const plugins::Instance> instance_;
};

std::string redisConfig(unsigned short port, const std::string& extra = {},
                        const std::string& redisExtra = {}, int minute = 5) {
  return "{\"minute\":" + std::to_string(minute) +
         ",\"limit_by\":\"ip\",\"policy\":\"redis\",\"redis\":{\"host\":\"127.0.0.1\","
         "\"port\":" +
         std::to_string(port) + redisExtra + "}" + extra + "}";
}

std::string minuteKey(const std::string& ip) {
  return std::string("ratelimit:") + kRouteId + ":00000000-0000-0000-0000-000000000000:" + ip +
         ":" + kMinuteStartMs + ":minute";
}

}  // namespace

class RateLimitingRedisTest : public QObject {
  Q_OBJECT

 private:
  RedisServer server_;
  std::int64_t clock_ = kT0;

 private Q_SLOTS:
  void initTestCase() {
    if (QStandardPaths::findExecutable("redis-server").isEmpty())
      QSKIP("redis-server is not installed");
    QVERIFY(server_.start());
  }
  void init() { server_.run({"FLUSHALL"}); }
  void cleanupTestCase() { server_.kill(); }

  void twoNodesShareOneLimit() {
    Node a(&clock_), b(&clock_);
    QCOMPARE(a.compile(redisConfig(server_.port())), QString());
    QCOMPARE(b.compile(redisConfig(server_.port())), QString());
    QVERIFY(a.instance().asyncAccess());
    int passed = 0;
    for (int i = 0; i < 10; ++i) {
      Outcome o = (i % 2 ? b : a).run();
      if (o.status == 0) {
        ++passed;
        QCOMPARE(o.h("X-RateLimit-Remaining-Minute"), std::to_string(4 - i));
        QCOMPARE(o.h("RateLimit-Reset"), std::string("40"));
      } else {
        QCOMPARE(o.status, 429);
        QCOMPARE(o.h("Retry-After"), std::string("40"));
        QCOMPARE(json::parse(o.body).at("message").as_string(),
                 json::string("API rate limit exceeded"));
      }
    }
    QCOMPARE(passed, 5);
  }

  void usesKongKeySchemeWithExpiry() {
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(server_.port())), QString());
    a.run("10.2.2.2");
    a.run("10.2.2.2");
    redis::Reply v = server_.run({"GET", minuteKey("10.2.2.2")});
    QCOMPARE(v.type, redis::Reply::Type::bulk);
    QCOMPARE(v.text, std::string("2"));
    redis::Reply ttl = server_.run({"TTL", minuteKey("10.2.2.2")});
    QCOMPARE(ttl.type, redis::Reply::Type::integer);
    QVERIFY(ttl.integer > 0 && ttl.integer <= 60);
  }

  void refusedRequestsAreCountedAsKongDoes() {
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(server_.port())), QString());
    for (int i = 0; i < 7; ++i) a.run("10.3.3.3");
    QCOMPARE(server_.run({"GET", minuteKey("10.3.3.3")}).text, std::string("7"));
  }

  void concurrentRequestsOnOneWorker() {
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(server_.port())), QString());
    QCOMPARE(a.runConcurrently(12, "10.8.8.8"), 5);
    QCOMPARE(server_.run({"GET", minuteKey("10.8.8.8")}).text, std::string("12"));
    // sync_rate: the same worker, concurrent first reads of one key merge into one cache entry.
    Node b(&clock_);
    QCOMPARE(b.compile(redisConfig(server_.port(), ",\"sync_rate\":0.1")), QString());
    QCOMPARE(b.runConcurrently(3, "10.8.8.9"), 3);
    QCOMPARE(b.runConcurrently(4, "10.8.8.9"), 2);
    b.runFor(std::chrono::milliseconds(400));
    // 3 INCRs, then 2 accepted locally (+2) and 2 refused (not counted): 5 in Redis.
    QCOMPARE(server_.run({"GET", minuteKey("10.8.8.9")}).text, std::string("5"));
  }

  void connectionsArePooled() {
    auto connections = [&] {
      std::string info = server_.run({"INFO", "stats"}).text;
      auto p = info.find("total_connections_received:");
      return std::stoll(info.substr(p + 27));
    };
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(server_.port(), {}, {}, 1000)), QString());
    const long long before = connections();
    for (int i = 0; i < 30; ++i) QCOMPARE(a.run().status, 0);
    // One pooled connection, plus the INFO call itself.
    QVERIFY2(connections() - before <= 2, qPrintable(QString::number(connections() - before)));
  }

  void syncRateBatchesIncrements() {
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(server_.port(), ",\"sync_rate\":0.2")), QString());
    QCOMPARE(a.run("10.4.4.4").status, 0);
    QCOMPARE(server_.run({"GET", minuteKey("10.4.4.4")}).text, std::string("1"));
    QCOMPARE(a.run("10.4.4.4").status, 0);
    QCOMPARE(a.run("10.4.4.4").status, 0);
    // Counted locally until the flush.
    QCOMPARE(server_.run({"GET", minuteKey("10.4.4.4")}).text, std::string("1"));
    a.runFor(std::chrono::milliseconds(500));
    QCOMPARE(server_.run({"GET", minuteKey("10.4.4.4")}).text, std::string("3"));
    // Another node's traffic is seen once this worker reads Redis again.
    server_.run({"INCRBY", minuteKey("10.4.4.4"), "2"});
    Outcome o = a.run("10.4.4.4");
    QCOMPARE(o.status, 429);
    a.runFor(std::chrono::milliseconds(500));
  }

  void authAndDatabase() {
    RedisServer secured;
    secured.setAuth("s3cret");
    QVERIFY(secured.start({"--requirepass", "s3cret"}));
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(secured.port(), ",\"fault_tolerant\":false",
                                   ",\"password\":\"s3cret\",\"database\":3")),
             QString());
    QCOMPARE(a.run("10.5.5.5").status, 0);
    // The key is in database 3, not 0.
    QCOMPARE(secured.runIn(3, {"GET", minuteKey("10.5.5.5")}).text, std::string("1"));
    QCOMPARE(secured.run({"EXISTS", minuteKey("10.5.5.5")}).integer, std::int64_t(0));

    Node wrong(&clock_);
    QCOMPARE(wrong.compile(redisConfig(secured.port(), ",\"fault_tolerant\":false",
                                       ",\"password\":\"nope\"")),
             QString());
    QCOMPARE(wrong.run("10.5.5.5").status, 500);
    secured.kill();
  }

  void tlsConnections() {
    QTemporaryDir dir;
    const QString cert = dir.filePath("cert.pem"), key = dir.filePath("key.pem");
    QProcess openssl;
    openssl.start("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                              "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext",
                              "subjectAltName=DNS:localhost"});
    if (!openssl.waitForFinished(60000) || openssl.exitCode() != 0)
      QSKIP("openssl could not make a test certificate");
    const unsigned short tlsPort = plugintest::freePort();
    RedisServer tls;
    QVERIFY(tls.start({"--tls-port", QString::number(tlsPort), "--tls-cert-file", cert,
                       "--tls-key-file", key, "--tls-auth-clients", "no"}));
    auto config = [&](const std::string& extra) {
      return redisConfig(tlsPort, ",\"fault_tolerant\":false", ",\"ssl\":true" + extra);
    };
    // Encrypted, not verified.
    Node plain(&clock_);
    QCOMPARE(plain.compile(config("")), QString());
    QCOMPARE(plain.run("10.7.7.7").status, 0);
    QCOMPARE(plain.run("10.7.7.7").status, 0);
    QCOMPARE(tls.run({"GET", minuteKey("10.7.7.7")}).text, std::string("2"));
    // Verified against a trust store without our certificate: refused.
    Node untrusted(&clock_);
    QCOMPARE(untrusted.compile(config(",\"ssl_verify\":true,\"server_name\":\"localhost\"")),
             QString());
    QCOMPARE(untrusted.run("10.7.7.7").status, 500);
    // Trusted (OpenSSL's SSL_CERT_FILE), and the name must match.
    qputenv("SSL_CERT_FILE", cert.toLocal8Bit());
    Node trusted(&clock_), wrongName(&clock_);
    QCOMPARE(trusted.compile(config(",\"ssl_verify\":true,\"server_name\":\"localhost\"")),
             QString());
    QCOMPARE(wrongName.compile(config(",\"ssl_verify\":true,\"server_name\":\"other.test\"")),
             QString());
    const int trustedStatus = trusted.run("10.7.7.7").status;
    const int wrongNameStatus = wrongName.run("10.7.7.7").status;
    qunsetenv("SSL_CERT_FILE");
    QCOMPARE(trustedStatus, 0);
    QCOMPARE(wrongNameStatus, 500);
    QCOMPARE(tls.run({"GET", minuteKey("10.7.7.7")}).text, std::string("3"));
    tls.kill();
  }

  void timeoutIsBounded() {
    // A listener that never answers: the kernel completes the handshake, nothing replies.
    asio::io_context io;
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = silent.local_endpoint().port();
    Node a(&clock_);
    QCOMPARE(a.compile(redisConfig(port, ",\"fault_tolerant\":false", ",\"timeout\":200")),
             QString());
    auto start = std::chrono::steady_clock::now();
    Outcome o = a.run();
    auto elapsed = std::chrono::steady_clock::now() - start;
    QCOMPARE(o.status, 500);
    QCOMPARE(json::parse(o.body).at("message").as_string(),
             json::string("An unexpected error occurred"));
    QVERIFY(elapsed >= std::chrono::milliseconds(150));
    QVERIFY(elapsed < std::chrono::milliseconds(2000));
  }

  // Last: it kills the shared server.
  void redisDyingMidTest() {
    Node tolerant(&clock_), strict(&clock_);
    QCOMPARE(tolerant.compile(redisConfig(server_.port())), QString());
    QCOMPARE(strict.compile(redisConfig(server_.port(), ",\"fault_tolerant\":false")), QString());
    QCOMPARE(tolerant.run("10.6.6.6").status, 0);
    QCOMPARE(strict.run("10.6.6.7").status, 0);
    server_.kill();
    // fault_tolerant: let through, without rate-limit headers (usage unknown).
    for (int i = 0; i < 8; ++i) {
      Outcome o = tolerant.run("10.6.6.6");
      QCOMPARE(o.status, 0);
      QVERIFY(o.headers.empty());
    }
    Outcome refused = strict.run("10.6.6.7");
    QCOMPARE(refused.status, 500);
    QCOMPARE(json::parse(refused.body).at("message").as_string(),
             json::string("An unexpected error occurred"));
    // Redis comes back on the same port: counting resumes (stale pooled connections retried).
    QVERIFY(server_.start());
    Outcome back = strict.run("10.6.6.7");
    QCOMPARE(back.status, 0);
    QCOMPARE(back.h("X-RateLimit-Remaining-Minute"), std::string("4"));
  }
};

QTEST_GUILESS_MAIN(RateLimitingRedisTest)
#include "rate_limiting_redis_test.moc"
