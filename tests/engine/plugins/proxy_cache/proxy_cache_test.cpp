// proxy-cache: schema, Kong's cache key, the memory cache (LRU eviction, TTL with a driven
// clock, concurrent use), the Miss/Hit/Refresh/Bypass flow through the plugin's phases,
// Cache-Control rules and the Admin API helpers.
#include <QtTest>
#include <atomic>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "http/head_parser.h"
#include "plugins/proxy_cache/cache_control.h"
#include "plugins/proxy_cache/cache_key.h"
#include "plugins/proxy_cache/memory_cache.h"
#include "plugins/proxy_cache/proxy_cache.h"

using namespace archway;
namespace json = boost::json;
namespace pc = plugins::proxy_cache;

namespace {

std::optional<std::string> edited(const plugins::Context& ctx, std::string_view name) {
  std::optional<std::string> v;
  for (const auto& e : ctx.responseEdits) {
    if (QByteArray(e.name.data(), int(e.name.size())).toLower() !=
        QByteArray(name.data(), int(name.size())).toLower())
      continue;
    if (e.op == plugins::HeaderEdit::Op::remove)
      v.reset();
    else if (e.op == plugins::HeaderEdit::Op::set || !v)
      v = e.value;
    else
      *v += ", " + e.value;
  }
  return v;
}

// One request through the plugin: access, then (unless it exited) an upstream response
// through header_filter and body_filter.
struct Exchange {
  std::string reqBytes, resBytes, body;
  http::RequestHead req;
  http::ResponseHead res;
  plugins::Context ctx;
  core::Route route;

  explicit Exchange(std::string request) : reqBytes(std::move(request)) {
    http::Limits limits;
    req.reserve(limits);
    http::ParseError err;
    if (http::parseRequestHead(reqBytes.data(), reqBytes.size(), limits, req, err) !=
        http::ParseStatus::complete)
      qFatal("request did not parse");
    const char* b = reqBytes.data();
    ctx.bindRequest(&req, b);
    ctx.method = req.method.in(b);
    ctx.path = ctx.rawPath = req.path.in(b);
    ctx.query = req.query.in(b);
    route.id = "route-1";
    ctx.route = &route;
    ctx.enter(0);
  }

  void respond(const plugins::Instance& inst, std::string head, std::string responseBody) {
    resBytes = std::move(head);
    body = std::move(responseBody);
    http::Limits limits;
    res.reserve(limits);
    http::ParseError err;
    if (http::parseResponseHead(resBytes.data(), resBytes.size(), limits, res, err) !=
        http::ParseStatus::complete)
      qFatal("response did not parse");
    ctx.bindResponse(&res, resBytes.data());
    ctx.status = res.status;
    inst.headerFilter(ctx);
    ctx.setResponseBodyView(body);
    inst.bodyFilter(ctx);
  }
};

std::string get(const std::string& target, const std::string& extra = {},
                const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

std::string okHead(const std::string& contentType = "application/json",
                   const std::string& extra = {}, int status = 200) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + contentType +
         "\r\nContent-Length: 7\r\nX-Up: u1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n" + extra +
         "\r\n";
}

struct Fixture {
  std::atomic<std::int64_t> now{1'700'000'000};
  plugins::Persistent persistent;
  core::Config config;

  Fixture() {
    pc::stores(persistent)
        .install("kong_db_cache", std::make_shared<pc::MemoryCache>(std::size_t(1) << 20,
                                                                    [this] { return now.load(); }));
  }

  std::shared_ptr<const plugins::Instance> compile(const std::string& configJson) {
    static auto factory = plugins::makeProxyCachePlugin();
    auto valid = plugins::schema::validate(factory->schema(), json::parse(configJson));
    if (!valid) qFatal("%s", valid.errorText().c_str());
    plugins::CompileEnv env(config, persistent);
    auto inst = factory->compile(core::Plugin{}, *valid, env);
    if (!inst) qFatal("%s", inst.errorText().c_str());
    return *inst;
  }
};

constexpr const char* kMemory = "{\"strategy\":\"memory\"}";

}  // namespace

class ProxyCacheTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void schemaDefaultsAndMessages() {
    auto f = plugins::makeProxyCachePlugin();
    QCOMPARE(f->name(), std::string_view("proxy-cache"));
    QCOMPARE(f->priority(), 100);
    auto missing = plugins::schema::validate(f->schema(), json::object());
    QCOMPARE(QString::fromStdString(missing.errorText()),
             QString("config.strategy: required field missing"));
    auto v = plugins::schema::validate(f->schema(), json::parse(kMemory));
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(json::serialize(v->at("response_code")), std::string("[200,301,404]"));
    QCOMPARE(json::serialize(v->at("request_method")), std::string("[\"GET\",\"HEAD\"]"));
    QCOMPARE(json::serialize(v->at("content_type")),
             std::string("[\"text/plain\",\"application/json\"]"));
    QCOMPARE(v->at("cache_ttl").as_int64(), std::int64_t(300));
    QCOMPARE(json::serialize(v->at("memory")),
             std::string("{\"dictionary_name\":\"kong_db_cache\"}"));
    QCOMPARE(json::serialize(v->at("response_headers")),
             std::string("{\"age\":true,\"X-Cache-Status\":true,\"X-Cache-Key\":true}"));
    auto bad = plugins::schema::validate(
        f->schema(), json::parse("{\"strategy\":\"redis\",\"cache_ttl\":0,\"response_code\":[99],"
                                 "\"request_method\":[\"DELETE\"]}"));
    QCOMPARE(QString::fromStdString(bad.errorText()),
             QString("config.response_code[0]: value should be between 100 and 900\n"
                     "config.request_method[0]: expected one of: HEAD, GET, POST, PATCH, PUT\n"
                     "config.cache_ttl: value must be greater than 0\n"
                     "config.strategy: expected one of: memory"));
    auto empty = plugins::schema::validate(
        f->schema(), json::parse("{\"strategy\":\"memory\",\"response_code\":[]}"));
    QCOMPARE(QString::fromStdString(empty.errorText()),
             QString("config.response_code: length must be at least 1"));
  }

  void cacheKeyPartsFollowKong() {
    QCOMPARE(pc::sha256Hex("abc"),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(pc::paramsKey("b=2&a=3&a=1&flag&e=", {}), std::string("a=1,3:b=2:e=:flag"));
    QCOMPARE(pc::paramsKey("b=x%20y&a=1", {"b", "zz"}), std::string("b=x y"));
    QCOMPARE(pc::paramsKey("", {}), std::string());
    core::Consumer consumer;
    consumer.id = "c-1";
    core::Route route;
    route.id = "r-1";
    QCOMPARE(pc::prefixUuid(&consumer, &route), std::string("c-1:r-1"));
    QCOMPARE(pc::prefixUuid(nullptr, &route), std::string("r-1"));
    QCOMPARE(pc::prefixUuid(nullptr, nullptr), std::string("default"));
    // ngx.var.request with "?..." cut: the HTTP version stays only without a query.
    QCOMPARE(pc::requestUri("GET", "/A/b", false, "HTTP/1.1", false),
             std::string("GET /A/b HTTP/1.1"));
    QCOMPARE(pc::requestUri("GET", "/A/b", true, "HTTP/1.1", true), std::string("get /a/b"));
  }

  void cacheKeyHashesTheKongMaterial() {
    Exchange x(get("/p/Q?b=2&a=1", "Accept: text/plain\r\nX-Foo: 2\r\nx-foo: 1\r\n"));
    QCOMPARE(pc::buildCacheKey(x.ctx, 0, false, {}, {}),
             pc::sha256Hex("route-1|GET|GET /p/Q|a=1:b=2|"));
    QCOMPARE(pc::buildCacheKey(x.ctx, 0, true, {"a"}, {"Accept", "x_foo", "missing"}),
             pc::sha256Hex("route-1|GET|get /p/q|a=1|Accept=text/plain:x_foo=1,2"));
    Exchange plain(get("/p"));
    core::Consumer consumer;
    consumer.id = "c-9";
    plain.ctx.consumer = &consumer;
    QCOMPARE(pc::buildCacheKey(plain.ctx, 0, false, {}, {}),
             pc::sha256Hex("c-9:route-1|GET|GET /p HTTP/1.1||"));
  }

  void memoryCacheEvictsTheLeastRecentlyUsed() {
    auto entry = [](char c) {
      auto r = std::make_shared<pc::CachedResponse>();
      r->body.assign(100, c);
      return r;
    };
    pc::MemoryCache probe(1 << 20, {}, 1);
    probe.set("k1", entry('x'), 0);
    const std::size_t cost = probe.bytes();
    QVERIFY(cost > 100);

    pc::MemoryCache cache(
        3 * cost + cost / 2, [] { return std::int64_t(100); }, 1);
    QVERIFY(cache.set("k1", entry('a'), 0));
    QVERIFY(cache.set("k2", entry('b'), 0));
    QVERIFY(cache.set("k3", entry('c'), 0));
    QVERIFY(cache.get("k1"));  // k1 used: k2 is now the least recently used
    QVERIFY(cache.set("k4", entry('d'), 0));
    QCOMPARE(cache.size(), std::size_t(3));
    QVERIFY(cache.get("k1"));
    QVERIFY(!cache.get("k2"));
    QVERIFY(cache.get("k3"));
    QVERIFY(cache.get("k4"));
    QVERIFY(cache.bytes() <= cache.maxBytes());
    // Something bigger than the whole budget is refused, not stored by evicting everything.
    auto huge = std::make_shared<pc::CachedResponse>();
    huge->body.assign(4 * cost, 'h');
    QVERIFY(!cache.set("huge", huge, 0));
    QCOMPARE(cache.size(), std::size_t(3));
  }

  void memoryCacheExpiresByTtlOnTheInjectedClock() {
    std::int64_t now = 1000;
    pc::MemoryCache cache(
        1 << 20, [&] { return now; }, 4);
    auto r = std::make_shared<pc::CachedResponse>();
    QVERIFY(cache.set("short", r, 10));
    QVERIFY(cache.set("forever", r, 0));
    QVERIFY(!cache.set("negative", r, -1));
    now = 1009;
    QVERIFY(cache.get("short"));
    now = 1010;
    QVERIFY(!cache.get("short"));
    QVERIFY(cache.get("forever"));
    QVERIFY(!cache.erase("short"));  // expired entries do not count as found
    QVERIFY(cache.erase("forever"));
    QVERIFY(!cache.get("forever"));
    QVERIFY(cache.set("again", r, 5));
    cache.clear();
    QCOMPARE(cache.size(), std::size_t(0));
    QCOMPARE(cache.bytes(), std::size_t(0));
  }

  void memoryCacheServesManyThreadsAtOnce() {
    pc::MemoryCache cache(64 * 1024, {}, 8);
    std::atomic<int> hits{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 2000; ++i) {
          std::string key = "k" + std::to_string((i * 7 + t) % 300);
          if (cache.get(key)) {
            ++hits;
          } else {
            auto r = std::make_shared<pc::CachedResponse>();
            r->body.assign(200, 'x');
            cache.set(key, std::move(r), 0);
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    QVERIFY(hits.load() > 0);
    QVERIFY(cache.bytes() <= cache.maxBytes());
  }

  void cacheControlDirectivesParseAsKong() {
    auto cc = pc::parseCacheControl("No-Cache, max-age=5 , s-maxage=\"7\", private,max-stale");
    QVERIFY(cc.noCache);
    QVERIFY(cc.isPrivate);
    QVERIFY(!cc.noStore);
    QCOMPARE(*cc.maxAge.value, 5.0);
    QVERIFY(cc.sMaxAge.present && !cc.sMaxAge.value);  // a string in Kong
    QVERIFY(cc.maxStale.present && !cc.maxStale.value);
    QCOMPARE(pc::resourceTtl(pc::parseCacheControl("max-age=60, s-maxage=30"), std::nullopt, 0),
             std::int64_t(30));
    QCOMPARE(pc::resourceTtl(pc::parseCacheControl("public"),
                             std::string_view("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777 - 100),
             std::int64_t(100));
    QCOMPARE(pc::resourceTtl(pc::parseCacheControl("max-age=-5"), std::nullopt, 0),
             std::int64_t(0));
    QCOMPARE(pc::parseHttpTime("Sunday, 06-Nov-94 08:49:37 GMT"),
             std::optional<std::int64_t>(784111777));
    QCOMPARE(pc::parseHttpTime("Sun Nov  6 08:49:37 1994"), std::optional<std::int64_t>(784111777));
    QCOMPARE(pc::parseHttpTime("yesterday"), std::nullopt);
  }

  void missThenHitServesTheStoredResponse() {
    Fixture f;
    auto inst = f.compile(kMemory);
    Exchange first(get("/p?x=1"));
    inst->access(first.ctx);
    QVERIFY(!first.ctx.exited());
    QCOMPARE(edited(first.ctx, "X-Cache-Status"), std::optional<std::string>("Miss"));
    auto key = edited(first.ctx, "X-Cache-Key");
    QVERIFY(key && key->size() == 64);
    first.respond(*inst, okHead(), "{\"a\":1}");
    QCOMPARE(edited(first.ctx, "X-Cache-Status"), std::optional<std::string>("Miss"));

    f.now += 7;
    Exchange second(get("/p?x=1"));
    inst->access(second.ctx);
    QVERIFY(second.ctx.exited());
    QCOMPARE(second.ctx.exitStatus(), 200);
    QCOMPARE(second.ctx.exitBody(), std::string_view("{\"a\":1}"));
    QCOMPARE(second.ctx.exitContentType(), std::string_view("application/json"));
    QCOMPARE(edited(second.ctx, "X-Cache-Status"), std::optional<std::string>("Hit"));
    QCOMPARE(edited(second.ctx, "X-Cache-Key"), key);
    QCOMPARE(edited(second.ctx, "Age"), std::optional<std::string>("7"));
    QCOMPARE(edited(second.ctx, "X-Up"), std::optional<std::string>("u1"));
    QCOMPARE(edited(second.ctx, "Set-Cookie"), std::optional<std::string>("a=1, b=2"));
    QCOMPARE(edited(second.ctx, "Content-Length"), std::nullopt);
    // The hit's own header_filter leaves the response alone.
    auto n = second.ctx.responseEdits.size();
    inst->headerFilter(second.ctx);
    QCOMPARE(second.ctx.responseEdits.size(), n);

    Exchange other(get("/p?x=2"));
    inst->access(other.ctx);
    QVERIFY(!other.ctx.exited());
  }

  void staleEntryIsRefreshedAfterCacheTtl() {
    Fixture f;
    auto inst = f.compile("{\"strategy\":\"memory\",\"cache_ttl\":10,\"storage_ttl\":100}");
    Exchange first(get("/p"));
    inst->access(first.ctx);
    first.respond(*inst, okHead("text/plain"), "v1");
    f.now += 11;
    Exchange second(get("/p"));
    inst->access(second.ctx);
    QVERIFY(!second.ctx.exited());
    QCOMPARE(edited(second.ctx, "X-Cache-Status"), std::optional<std::string>("Refresh"));
    second.respond(*inst, okHead("text/plain"), "v2");
    Exchange third(get("/p"));
    inst->access(third.ctx);
    QVERIFY(third.ctx.exited());
    QCOMPARE(third.ctx.exitBody(), std::string_view("v2"));
    QCOMPARE(edited(third.ctx, "Age"), std::optional<std::string>("0"));
  }

  void storageTtlBoundsTheEntry() {
    Fixture f;
    auto inst = f.compile("{\"strategy\":\"memory\",\"cache_ttl\":300}");
    Exchange first(get("/p"));
    inst->access(first.ctx);
    first.respond(*inst, okHead("text/plain"), "v1");
    f.now += 301;  // cache_ttl is also the storage TTL without storage_ttl
    Exchange second(get("/p"));
    inst->access(second.ctx);
    QCOMPARE(edited(second.ctx, "X-Cache-Status"), std::optional<std::string>("Miss"));
  }

  void uncacheableRequestsAndResponsesBypass() {
    Fixture f;
    auto inst = f.compile(kMemory);
    {
      Exchange post(get("/p", {}, "POST"));
      inst->access(post.ctx);
      QCOMPARE(edited(post.ctx, "X-Cache-Status"), std::optional<std::string>("Bypass"));
      QCOMPARE(edited(post.ctx, "X-Cache-Key"), std::nullopt);
    }
    // The content type must match exactly, parameters included (kong-reference #23).
    for (auto [ct, status] : {std::pair<std::string, int>{"application/json; charset=utf-8", 200},
                              {"text/html", 200},
                              {"application/json", 500}}) {
      Exchange x(get("/q"));
      inst->access(x.ctx);
      x.respond(*inst, okHead(ct, {}, status), "{}");
      QCOMPARE(edited(x.ctx, "X-Cache-Status"), std::optional<std::string>("Bypass"));
      Exchange again(get("/q"));
      inst->access(again.ctx);
      QVERIFY(!again.ctx.exited());
    }
  }

  void contentTypeParametersMustMatch() {
    Fixture f;
    auto inst = f.compile(
        "{\"strategy\":\"memory\",\"content_type\":[\"application/json; charset=utf-8\"]}");
    Exchange x(get("/p"));
    inst->access(x.ctx);
    x.respond(*inst, okHead("Application/JSON;charset=utf-8"), "{}");
    QCOMPARE(edited(x.ctx, "X-Cache-Status"), std::optional<std::string>("Miss"));
    Exchange y(get("/p2"));
    inst->access(y.ctx);
    y.respond(*inst, okHead("application/json; charset=utf-8; q=1"), "{}");
    QCOMPARE(edited(y.ctx, "X-Cache-Status"), std::optional<std::string>("Bypass"));
  }

  void cacheControlRulesAreHonouredWhenEnabled() {
    Fixture f;
    auto inst = f.compile("{\"strategy\":\"memory\",\"cache_control\":true}");
    {
      Exchange x(get("/a", "Cache-Control: no-cache\r\n"));
      inst->access(x.ctx);
      QCOMPARE(edited(x.ctx, "X-Cache-Status"), std::optional<std::string>("Bypass"));
    }
    for (const char* cc : {"private, max-age=60", "no-store", "max-age=0", "public"}) {
      Exchange x(get("/b"));
      inst->access(x.ctx);
      x.respond(*inst, okHead("text/plain", std::string("Cache-Control: ") + cc + "\r\n"), "b");
      QVERIFY2(edited(x.ctx, "X-Cache-Status") == std::optional<std::string>("Bypass"), cc);
    }
    {
      // s-maxage wins over max-age and is the storage TTL.
      Exchange x(get("/c"));
      inst->access(x.ctx);
      x.respond(*inst, okHead("text/plain", "Cache-Control: max-age=100, s-maxage=5\r\n"), "c");
      QCOMPARE(edited(x.ctx, "X-Cache-Status"), std::optional<std::string>("Miss"));
      f.now += 3;
      Exchange hit(get("/c"));
      inst->access(hit.ctx);
      QVERIFY(hit.ctx.exited());
      Exchange tooOld(get("/c", "Cache-Control: max-age=2\r\n"));
      inst->access(tooOld.ctx);
      QCOMPARE(edited(tooOld.ctx, "X-Cache-Status"), std::optional<std::string>("Refresh"));
      Exchange fresh(get("/c", "Cache-Control: min-fresh=3\r\n"));
      inst->access(fresh.ctx);  // 2 s of freshness left, 3 wanted
      QCOMPARE(edited(fresh.ctx, "X-Cache-Status"), std::optional<std::string>("Refresh"));
      f.now += 2;
      Exchange expired(get("/c"));
      inst->access(expired.ctx);
      QCOMPARE(edited(expired.ctx, "X-Cache-Status"), std::optional<std::string>("Miss"));
    }
    {
      Exchange x(get("/d", "Cache-Control: only-if-cached\r\n"));
      inst->access(x.ctx);
      QVERIFY(x.ctx.exited());
      QCOMPARE(x.ctx.exitStatus(), 504);
    }
  }

  void responseHeadersFollowConfigAndKongDebug() {
    Fixture f;
    auto inst = f.compile(
        "{\"strategy\":\"memory\",\"response_headers\":{\"age\":false,\"X-Cache-Status\":false,"
        "\"X-Cache-Key\":false}}");
    Exchange first(get("/p"));
    inst->access(first.ctx);
    first.respond(*inst, okHead(), "{}");
    QVERIFY(first.ctx.responseEdits.empty());
    Exchange hit(get("/p"));
    inst->access(hit.ctx);
    QVERIFY(hit.ctx.exited());
    QCOMPARE(edited(hit.ctx, "X-Cache-Status"), std::nullopt);
    QCOMPARE(edited(hit.ctx, "Age"), std::nullopt);
    Exchange debug(get("/p", "Kong-Debug: 1\r\n"));
    inst->access(debug.ctx);
    QCOMPARE(edited(debug.ctx, "X-Cache-Status"), std::optional<std::string>("Hit"));
    QVERIFY(edited(debug.ctx, "X-Cache-Key"));
  }

  void varyHeadersSeparateEntries() {
    Fixture f;
    auto inst = f.compile("{\"strategy\":\"memory\",\"vary_headers\":[\"Accept-Language\"]}");
    Exchange en(get("/p", "Accept-Language: en\r\n"));
    inst->access(en.ctx);
    en.respond(*inst, okHead(), "\"en\"");
    Exchange fr(get("/p", "Accept-Language: fr\r\n"));
    inst->access(fr.ctx);
    QVERIFY(!fr.ctx.exited());
    Exchange enAgain(get("/p", "Accept-Language: en\r\n"));
    inst->access(enAgain.ctx);
    QVERIFY(enAgain.ctx.exited());
    QCOMPARE(enAgain.ctx.exitBody(), std::string_view("\"en\""));
  }

  void adminHelpersFindPurgeAndFlush() {
    Fixture f;
    auto inst = f.compile(kMemory);
    Exchange first(get("/p"));
    inst->access(first.ctx);
    first.respond(*inst, okHead(), "{\"a\":1}");
    std::string key = *edited(first.ctx, "X-Cache-Key");
    auto found = pc::lookup(f.persistent, key);
    QVERIFY(found);
    QCOMPARE(found->at("status").as_int64(), std::int64_t(200));
    QCOMPARE(found->at("body").as_string(), "{\"a\":1}");
    QCOMPARE(found->at("body_len").to_number<std::int64_t>(), std::int64_t(7));
    QCOMPARE(found->at("version").as_int64(), std::int64_t(1));
    QCOMPARE(found->at("ttl").as_int64(), std::int64_t(300));
    QCOMPARE(json::serialize(found->at("headers").at("Set-Cookie")),
             std::string("[\"a=1\",\"b=2\"]"));
    QVERIFY(pc::lookup(f.persistent, "kong_db_cache", key));
    QVERIFY(!pc::lookup(f.persistent, "other_dict", key));
    QVERIFY(pc::purge(f.persistent, key));
    QVERIFY(!pc::purge(f.persistent, key));
    QVERIFY(!pc::lookup(f.persistent, key));

    Exchange again(get("/p"));
    inst->access(again.ctx);
    again.respond(*inst, okHead(), "{}");
    QVERIFY(pc::lookup(f.persistent, key));
    pc::purgeAll(f.persistent);
    QVERIFY(!pc::lookup(f.persistent, key));
  }

  void dictionariesAreSeparateCaches() {
    Fixture f;
    auto a = f.compile(kMemory);
    auto b = f.compile("{\"strategy\":\"memory\",\"memory\":{\"dictionary_name\":\"other\"}}");
    Exchange first(get("/p"));
    a->access(first.ctx);
    first.respond(*a, okHead(), "{}");
    Exchange viaB(get("/p"));
    b->access(viaB.ctx);
    QVERIFY(!viaB.ctx.exited());
    QVERIFY(pc::stores(f.persistent).find("other"));
  }
};

QTEST_GUILESS_MAIN(ProxyCacheTest)
#include "proxy_cache_test.moc"
