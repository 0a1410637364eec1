// rate-limiting with the local policy: Kong's schema checks and messages, the headers, 429,
// window rollover on an injected clock, limit_by, counts kept across reloads and shared by
// threads.
#include <QtTest>
#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "http/head_parser.h"
#include "plugins/plugin.h"
#include "plugins/rate_limiting/rate_limiting.h"

using namespace archway;
namespace json = boost::json;

namespace {

// 2024-01-01T00:00:20Z: 20 s into a minute.
constexpr std::int64_t kT0 = 1704067220000;

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
  int status = 0;  // 0: let through
  std::string body;
  std::map<std::string, std::string> headers;
  std::string h(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<none>") : it->second;
  }
};

struct Request {
  std::string clientIp = "10.0.0.1";
  std::string path = "/api";
  std::string extraHeaders;
  const core::Consumer* consumer = nullptr;
  std::string credential;
  const core::Service* service = nullptr;
};

class Harness {
 public:
  explicit Harness(std::string pluginId = "66666666-6666-6666-6666-666666666666")
      : pluginId_(std::move(pluginId)) {
    plugins::RateLimitingOptions o;
    o.nowMs = [this] { return now.load(); };
    o.localSlots = 4096;
    factory_ = plugins::makeRateLimitingPlugin(std::move(o));
  }

  std::atomic<std::int64_t> now{kT0};
  plugins::Persistent persistent;

  // Compiles a config (a reload compiles again against the same Persistent).
  QString compile(const std::string& configJson, std::string pluginId = {}) {
    auto valid = plugins::schema::validate(factory_->schema(), json::parse(configJson));
    if (!valid) return QString::fromStdString(valid.errorText());
    core::Plugin entity;
    entity.id = pluginId.empty() ? pluginId_ : pluginId;
    entity.name = "rate-limiting";
    plugins::CompileEnv env(config_, persistent);
    auto inst = factory_->compile(entity, *valid, env);
    if (!inst) return QString::fromStdString(inst.errorText());
    instance = *inst;
    return {};
  }

  Outcome run(const Request& r = {}) const { return runOn(*instance, r); }

  static Outcome runOn(const plugins::Instance& inst, const Request& r) {
    ParsedRequest parsed("GET " + r.path + " HTTP/1.1\r\nHost: a\r\n" + r.extraHeaders + "\r\n");
    plugins::Context ctx;
    ctx.bindRequest(&parsed.head, parsed.bytes.data());
    ctx.path = r.path;
    ctx.clientIp = r.clientIp;
    ctx.consumer = r.consumer;
    ctx.credentialId = r.credential;
    ctx.service = r.service;
    ctx.enter(0);
    inst.access(ctx);
    Outcome o;
    if (ctx.exited()) {
      o.status = ctx.exitStatus();
      o.body = std::string(ctx.exitBody());
    }
    for (const auto& e : ctx.responseEdits) o.headers[e.name] = e.value;
    return o;
  }

  std::shared_ptr<const plugins::Instance> instance;
  const plugins::Factory& factory() const { return *factory_; }

 private:
  std::string pluginId_;
  std::unique_ptr<plugins::Factory> factory_;
  core::Config config_;
};

core::Result<json::object> validate(const std::string& text) {
  auto f = plugins::makeRateLimitingPlugin();
  return plugins::schema::validate(f->schema(), json::parse(text));
}

std::string firstError(const std::string& text) {
  auto r = validate(text);
  return r.ok() ? std::string("<valid>") : r.errors()[0].text();
}

}  // namespace

class RateLimitingTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void factoryNameAndPriority() {
    auto f = plugins::makeRateLimitingPlugin();
    QCOMPARE(f->name(), std::string_view("rate-limiting"));
    QCOMPARE(f->priority(), 910);
  }

  void schemaFillsKongDefaults() {
    auto r = validate("{\"minute\":5}");
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(r->at("limit_by").as_string(), json::string("consumer"));
    QCOMPARE(r->at("policy").as_string(), json::string("local"));
    QCOMPARE(r->at("fault_tolerant").as_bool(), true);
    QCOMPARE(r->at("hide_client_headers").as_bool(), false);
    QCOMPARE(r->at("error_code").to_number<int>(), 429);
    QCOMPARE(r->at("error_message").as_string(), json::string("API rate limit exceeded"));
    QCOMPARE(r->at("sync_rate").to_number<int>(), -1);
    const auto& redis = r->at("redis").as_object();
    QCOMPARE(redis.at("port").as_int64(), std::int64_t(6379));
    QCOMPARE(redis.at("timeout").as_int64(), std::int64_t(2000));
    QCOMPARE(redis.at("database").as_int64(), std::int64_t(0));
    QCOMPARE(redis.at("ssl").as_bool(), false);
    QCOMPARE(redis.at("ssl_verify").as_bool(), false);
    QVERIFY(redis.at("host").is_null());
  }

  void schemaNeedsALimit() {
    QCOMPARE(firstError("{}"),
             std::string("config: at least one of these fields must be non-empty: "
                         "'config.second', 'config.minute', 'config.hour', 'config.day', "
                         "'config.month', 'config.year'"));
    QCOMPARE(firstError("{\"minute\":0}"),
             std::string("config.minute: value must be greater than 0"));
  }

  void schemaLongerPeriodNotLower() {
    QCOMPARE(firstError("{\"minute\":10,\"hour\":5}"),
             std::string("config: The limit for hour(5.0) cannot be lower than the limit for "
                         "minute(10.0)"));
    QCOMPARE(firstError("{\"second\":2.5,\"year\":1}"),
             std::string("config: The limit for year(1.0) cannot be lower than the limit for "
                         "second(2.5)"));
    QCOMPARE(firstError("{\"second\":5,\"minute\":5,\"day\":100}"), std::string("<valid>"));
  }

  void schemaConditionalFields() {
    QCOMPARE(firstError("{\"minute\":1,\"policy\":\"redis\"}"),
             std::string("config.redis.host: required field missing"));
    QCOMPARE(firstError("{\"minute\":1,\"policy\":\"redis\",\"redis_host\":\"r\"}"),
             std::string("<valid>"));
    QCOMPARE(firstError("{\"minute\":1,\"limit_by\":\"header\"}"),
             std::string("config.header_name: required field missing"));
    QCOMPARE(firstError("{\"minute\":1,\"limit_by\":\"path\"}"),
             std::string("config.path: required field missing"));
    QCOMPARE(firstError("{\"minute\":1,\"limit_by\":\"path\",\"path\":\"a/b\"}"),
             std::string("config.path: should start with: /"));
    QCOMPARE(firstError("{\"minute\":1,\"limit_by\":\"header\",\"header_name\":\"x y\"}"),
             std::string("config.header_name: bad header name 'x y', allowed characters are "
                         "A-Z, a-z, 0-9, '_', and '-'"));
    QCOMPARE(firstError("{\"minute\":1,\"limit_by\":\"user\"}"),
             std::string("config.limit_by: expected one of: consumer, credential, ip, service, "
                         "header, path"));
  }

  void schemaSyncRateRules() {
    QCOMPARE(firstError("{\"minute\":1,\"sync_rate\":1}"),
             std::string("config: sync_rate can only be used with the redis policy"));
    QCOMPARE(firstError("{\"minute\":1,\"sync_rate\":0.01,\"policy\":\"redis\","
                        "\"redis\":{\"host\":\"r\"}}"),
             std::string("config: sync_rate must be greater than 0.02, or -1 to disable"));
    QCOMPARE(firstError("{\"minute\":1,\"sync_rate\":0.5,\"policy\":\"redis\","
                        "\"redis\":{\"host\":\"r\"}}"),
             std::string("<valid>"));
  }

  void clusterPolicyIsRefusedWithoutADatabase() {
    Harness h;  // no engine attached a database to the node's cluster counters
    QString err = h.compile("{\"minute\":1,\"policy\":\"cluster\"}");
    QVERIFY2(err.startsWith("config.policy: the 'cluster' policy keeps its counters in the "
                            "database; it needs a node with a database"),
             qPrintable(err));
  }

  void localLimitWithKongHeaders() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":3}"), QString());
    for (int i = 0; i < 3; ++i) {
      Outcome o = h.run();
      QCOMPARE(o.status, 0);
      QCOMPARE(o.h("X-RateLimit-Limit-Minute"), std::string("3"));
      QCOMPARE(o.h("X-RateLimit-Remaining-Minute"), std::to_string(2 - i));
      QCOMPARE(o.h("RateLimit-Limit"), std::string("3"));
      QCOMPARE(o.h("RateLimit-Remaining"), std::to_string(2 - i));
      QCOMPARE(o.h("RateLimit-Reset"), std::string("40"));  // 20 s into the minute
      QCOMPARE(o.h("Retry-After"), std::string("<none>"));
    }
    Outcome refused = h.run();
    QCOMPARE(refused.status, 429);
    QCOMPARE(json::parse(refused.body).at("message").as_string(),
             json::string("API rate limit exceeded"));
    QCOMPARE(refused.h("X-RateLimit-Remaining-Minute"), std::string("0"));
    QCOMPARE(refused.h("RateLimit-Remaining"), std::string("0"));
    QCOMPARE(refused.h("Retry-After"), std::string("40"));
    QCOMPARE(refused.h("X-RateLimit-Limit-Second"), std::string("<none>"));
  }

  void windowRollsOverOnTheClock() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":2}"), QString());
    QCOMPARE(h.run().status, 0);
    QCOMPARE(h.run().status, 0);
    h.now += 39'000;  // 00:00:59
    Outcome last = h.run();
    QCOMPARE(last.status, 429);
    QCOMPARE(last.h("Retry-After"), std::string("1"));
    h.now += 1'000;  // 00:01:00: a new window
    Outcome fresh = h.run();
    QCOMPARE(fresh.status, 0);
    QCOMPARE(fresh.h("X-RateLimit-Remaining-Minute"), std::string("1"));
    QCOMPARE(fresh.h("RateLimit-Reset"), std::string("60"));
  }

  void secondWindowAndMostConstrainingHeaders() {
    Harness h;
    QCOMPARE(h.compile("{\"second\":2,\"minute\":10}"), QString());
    Outcome a = h.run();
    // Second: 1 left; minute: 9 left. The second is the most constraining.
    QCOMPARE(a.h("X-RateLimit-Remaining-Second"), std::string("1"));
    QCOMPARE(a.h("X-RateLimit-Remaining-Minute"), std::string("9"));
    QCOMPARE(a.h("RateLimit-Limit"), std::string("2"));
    QCOMPARE(a.h("RateLimit-Reset"), std::string("1"));
    QCOMPARE(h.run().status, 0);
    Outcome refused = h.run();
    QCOMPARE(refused.status, 429);
    QCOMPARE(refused.h("X-RateLimit-Remaining-Minute"), std::string("8"));
    QCOMPARE(refused.h("Retry-After"), std::string("1"));
    h.now += 1'000;
    QCOMPARE(h.run().status, 0);
  }

  void tieGoesToTheLongerWindow() {
    Harness h;
    QCOMPARE(h.compile("{\"second\":5,\"minute\":5}"), QString());
    Outcome a = h.run();
    QCOMPARE(a.h("RateLimit-Remaining"), std::string("4"));
    QCOMPARE(a.h("RateLimit-Reset"), std::string("40"));  // the minute's
  }

  void refusedRequestsAreNotCounted() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":2,\"hour\":3}"), QString());
    QCOMPARE(h.run().status, 0);
    QCOMPARE(h.run().status, 0);
    Outcome r = h.run();  // refused by the minute: the hour keeps 2
    QCOMPARE(r.status, 429);
    QCOMPARE(r.h("X-RateLimit-Remaining-Hour"), std::string("1"));
    h.now += 60'000;
    Outcome a = h.run();
    QCOMPARE(a.status, 0);
    QCOMPARE(a.h("X-RateLimit-Remaining-Hour"), std::string("0"));
    Outcome b = h.run();  // the hour refuses; the minute's count is given back
    QCOMPARE(b.status, 429);
    QCOMPARE(b.h("X-RateLimit-Remaining-Minute"), std::string("1"));
    QCOMPARE(b.h("X-RateLimit-Remaining-Hour"), std::string("0"));
    QCOMPARE(b.h("RateLimit-Limit"), std::string("3"));
  }

  void limitByIpSeparatesClients() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1,\"limit_by\":\"ip\"}"), QString());
    Request a, b;
    b.clientIp = "10.0.0.2";
    QCOMPARE(h.run(a).status, 0);
    QCOMPARE(h.run(a).status, 429);
    QCOMPARE(h.run(b).status, 0);
  }

  void limitByConsumerFallsBackToCredentialThenIp() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1}"), QString());
    core::Consumer alice;
    alice.id = "c-alice";
    Request fromAlice;
    fromAlice.consumer = &alice;
    Request aliceOtherIp = fromAlice;
    aliceOtherIp.clientIp = "10.9.9.9";
    QCOMPARE(h.run(fromAlice).status, 0);
    QCOMPARE(h.run(aliceOtherIp).status, 429);  // the consumer is the key, not the IP
    Request credOnly;
    credOnly.credential = "cred-1";
    QCOMPARE(h.run(credOnly).status, 0);
    QCOMPARE(h.run(credOnly).status, 429);
    Request anonymous;  // same IP as alice's first request, but no consumer: the IP's own count
    QCOMPARE(h.run(anonymous).status, 0);
    QCOMPARE(h.run(anonymous).status, 429);
  }

  void limitByHeaderAndPath() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1,\"limit_by\":\"header\",\"header_name\":\"X-Tenant\"}"),
             QString());
    Request t1, t2, none;
    t1.extraHeaders = "x-tenant: one\r\n";
    t2.extraHeaders = "X-Tenant: two\r\n";
    QCOMPARE(h.run(t1).status, 0);
    QCOMPARE(h.run(t1).status, 429);
    QCOMPARE(h.run(t2).status, 0);
    QCOMPARE(h.run(none).status, 0);  // no header: the client IP
    QCOMPARE(h.run(none).status, 429);

    Harness p("77777777-7777-7777-7777-777777777777");
    QCOMPARE(p.compile("{\"minute\":1,\"limit_by\":\"path\",\"path\":\"/login\"}"), QString());
    Request login, other;
    login.path = "/login";
    other.path = "/other";
    QCOMPARE(p.run(login).status, 0);
    QCOMPARE(p.run(login).status, 429);
    QCOMPARE(p.run(other).status, 0);  // not the path: limited by IP instead
  }

  void limitByService() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1,\"limit_by\":\"service\"}"), QString());
    core::Service s1, s2;
    s1.id = "s-1";
    s2.id = "s-2";
    Request a, b;
    a.service = &s1;
    b.service = &s2;
    b.clientIp = a.clientIp;
    QCOMPARE(h.run(a).status, 0);
    QCOMPARE(h.run(a).status, 429);
    QCOMPARE(h.run(b).status, 0);
  }

  void hideClientHeaders() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1,\"hide_client_headers\":true}"), QString());
    Outcome a = h.run();
    QCOMPARE(a.status, 0);
    QVERIFY(a.headers.empty());
    Outcome b = h.run();
    QCOMPARE(b.status, 429);
    QVERIFY(b.headers.empty());
  }

  void customErrorCodeAndMessage() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1,\"error_code\":503,\"error_message\":\"slow \\\"down\\\"\"}"),
             QString());
    QCOMPARE(h.run().status, 0);
    Outcome r = h.run();
    QCOMPARE(r.status, 503);
    QCOMPARE(json::parse(r.body).at("message").as_string(), json::string("slow \"down\""));
  }

  void countsSurviveReloadAndArePerPlugin() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":3}"), QString());
    QCOMPARE(h.run().status, 0);
    QCOMPARE(h.run().status, 0);
    // A reload compiles a new instance against the node's persistent objects.
    QCOMPARE(h.compile("{\"minute\":3,\"hour\":100}"), QString());
    Outcome o = h.run();
    QCOMPARE(o.status, 0);
    QCOMPARE(o.h("X-RateLimit-Remaining-Minute"), std::string("0"));
    QCOMPARE(h.run().status, 429);
    // Another plugin entity has its own counters.
    QCOMPARE(h.compile("{\"minute\":3}", "88888888-8888-8888-8888-888888888888"), QString());
    QCOMPARE(h.run().status, 0);
  }

  void workersShareOneExactCount() {
    Harness h;
    QCOMPARE(h.compile("{\"minute\":1000}"), QString());
    std::atomic<int> passed{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 600; ++i) {
          Outcome o = h.run();
          (o.status == 0 ? passed : refused).fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    QCOMPARE(passed.load(), 1000);
    QCOMPARE(refused.load(), 1400);
  }
};

QTEST_GUILESS_MAIN(RateLimitingTest)
#include "rate_limiting_test.moc"
