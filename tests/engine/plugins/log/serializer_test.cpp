// Kong's log serializer (kong.log.serialize) over a Context built on real parsed heads.
#include <QtTest>
#include <boost/json.hpp>

#include "log_test_support.h"
#include "plugins/log/serializer.h"

using namespace archway;
namespace json = boost::json;
using logtest::Exchange;

namespace {

json::object parse(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) qFatal("not a JSON object: %s", text.c_str());
  return v.as_object();
}

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

}  // namespace

class SerializerTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void requestFieldsComeFromTheParsedHead() {
    Exchange x;
    json::object o = parse(plugins::log::serialize(x.ctx));
    const auto& req = o.at("request").as_object();
    QCOMPARE(str(req.at("id")), std::string("0123456789abcdef0123456789abcdef"));
    QCOMPARE(str(req.at("uri")), std::string("/api/items?x=1&flag"));
    // Kong: scheme://$host:$server_port$request_uri, $host lower case without its port.
    QCOMPARE(str(req.at("url")), std::string("http://gateway.example:8000/api/items?x=1&flag"));
    QCOMPARE(str(req.at("method")), std::string("GET"));
    QCOMPARE(req.at("size").to_number<std::int64_t>(),
             static_cast<std::int64_t>(x.req.bytes.size()));
    const auto& q = req.at("querystring").as_object();
    QCOMPARE(str(q.at("x")), std::string("1"));
    QVERIFY(q.at("flag").is_bool() && q.at("flag").as_bool());
    QVERIFY(!req.contains("tls"));
  }

  void requestHeadersAreLowerCaseGroupedAndRedacted() {
    Exchange x;
    json::object o = parse(plugins::log::serialize(x.ctx));
    const auto& h = o.at("request").at("headers").as_object();
    QCOMPARE(str(h.at("host")), std::string("Gateway.Example:8000"));
    QCOMPARE(str(h.at("user-agent")), std::string("test"));
    QCOMPARE(str(h.at("authorization")), std::string("REDACTED"));
    const auto& multi = h.at("x-multi").as_array();
    QCOMPARE(multi.size(), std::size_t(2));
    QCOMPARE(str(multi[0]), std::string("one"));
    QCOMPARE(str(multi[1]), std::string("two"));
    QVERIFY(!h.contains("X-Multi"));
  }

  void requestHeadersIncludePluginEdits() {
    Exchange x;
    x.ctx.setRequestHeader("X-Consumer-ID", "c-1");
    x.ctx.removeRequestHeader("User-Agent");
    x.ctx.addRequestHeader("x-multi", "three");
    x.ctx.setRequestHeader("Proxy-Authorization", "secret");
    json::object o = parse(plugins::log::serialize(x.ctx));
    const auto& h = o.at("request").at("headers").as_object();
    QCOMPARE(str(h.at("x-consumer-id")), std::string("c-1"));
    QVERIFY(!h.contains("user-agent"));
    QCOMPARE(h.at("x-multi").as_array().size(), std::size_t(3));
    QCOMPARE(str(h.at("proxy-authorization")), std::string("REDACTED"));
  }

  void responseLatenciesAndUpstream() {
    Exchange x;
    x.ctx.setResponseHeader("X-Added", "yes");
    json::object o = parse(plugins::log::serialize(x.ctx));
    const auto& res = o.at("response").as_object();
    QCOMPARE(res.at("status").to_number<int>(), 200);
    QCOMPARE(res.at("size").to_number<std::int64_t>(),
             static_cast<std::int64_t>(x.res.bytes.size() + 2));
    const auto& h = res.at("headers").as_object();
    QCOMPARE(str(h.at("content-type")), std::string("application/json"));
    QCOMPARE(h.at("set-cookie").as_array().size(), std::size_t(2));
    QCOMPARE(str(h.at("x-added")), std::string("yes"));
    QCOMPARE(str(o.at("upstream_uri")), std::string("/items?x=1&flag"));
    QCOMPARE(str(o.at("upstream_status")), std::string("200"));
    const auto& lat = o.at("latencies").as_object();
    QCOMPARE(lat.at("kong").to_number<int>(), 2);
    QCOMPARE(lat.at("proxy").to_number<int>(), 10);
    QCOMPARE(lat.at("request").to_number<int>(), 12);
    QCOMPARE(lat.at("receive").to_number<int>(), 0);
    const auto& tries = o.at("tries").as_array();
    QCOMPARE(tries.size(), std::size_t(1));
    QCOMPARE(str(tries[0].at("ip")), std::string("127.0.0.1"));
    QCOMPARE(tries[0].at("port").to_number<int>(), 9000);
    QCOMPARE(str(o.at("client_ip")), std::string("10.1.2.3"));
    QCOMPARE(o.at("started_at").to_number<std::int64_t>(), std::int64_t(1700000000123));
    QCOMPARE(str(o.at("source")), std::string("upstream"));
    QCOMPARE(str(o.at("workspace")), plugins::log::defaultWorkspaceId());
    QCOMPARE(str(o.at("workspace_name")), std::string("default"));
  }

  void triesListEveryAttemptWithTheLastPeer() {
    Exchange x;
    x.ctx.tries = 2;
    x.ctx.upstreamHost.clear();  // not recorded: the service's address was the peer
    json::object o = parse(plugins::log::serialize(x.ctx));
    const auto& tries = o.at("tries").as_array();
    QCOMPARE(tries.size(), std::size_t(2));
    QVERIFY(tries[0].as_object().empty());
    QCOMPARE(str(tries[1].at("ip")), std::string("127.0.0.1"));
    QCOMPARE(tries[1].at("port").to_number<int>(), 9000);
    x.service.host = "backend.internal";
    json::object named = parse(plugins::log::serialize(x.ctx));
    QVERIFY(named.at("tries").as_array()[1].as_object().empty());
  }

  void routeAndServiceAreKongShapedCopies() {
    Exchange x;
    json::object o = parse(plugins::log::serialize(x.ctx));
    const auto& route = o.at("route").as_object();
    QCOMPARE(str(route.at("id")), x.route.id);
    QCOMPARE(str(route.at("name")), std::string("items-route"));
    QCOMPARE(str(route.at("paths").as_array()[0]), std::string("/api"));
    QCOMPARE(str(route.at("service").at("id")), x.service.id);
    QVERIFY(route.at("strip_path").as_bool());
    QCOMPARE(str(route.at("ws_id")), plugins::log::defaultWorkspaceId());
    // Kong's cached entities carry no null fields.
    QVERIFY(!route.contains("hosts"));
    QVERIFY(!route.contains("snis"));
    const auto& service = o.at("service").as_object();
    QCOMPARE(str(service.at("host")), std::string("127.0.0.1"));
    QCOMPARE(service.at("port").to_number<int>(), 9000);
    QCOMPARE(str(service.at("protocol")), std::string("http"));
    QVERIFY(!service.contains("path"));
    QVERIFY(!o.contains("consumer"));
    QVERIFY(!o.contains("authenticated_entity"));
  }

  void consumerAndAuthenticatedEntity() {
    Exchange x;
    core::Consumer c;
    c.id = "7c1d5e2f-0000-4000-8000-000000000001";
    c.username = "alice";
    c.createdAt = 1700000000;
    x.ctx.consumer = &c;
    x.ctx.credentialId = "cred-42";
    json::object o = parse(plugins::log::serialize(x.ctx));
    QCOMPARE(str(o.at("consumer").at("id")), c.id);
    QCOMPARE(str(o.at("consumer").at("username")), std::string("alice"));
    QVERIFY(!o.at("consumer").as_object().contains("custom_id"));
    QCOMPARE(str(o.at("authenticated_entity").at("id")), std::string("cred-42"));
    QCOMPARE(str(o.at("authenticated_entity").at("consumer_id")), c.id);
  }

  void exitIsSourceKongWithoutUpstream() {
    Exchange x;
    x.ctx.bindResponse(nullptr, nullptr);
    x.ctx.upstreamStatus = 0;
    x.ctx.upstreamUri.clear();
    x.ctx.upstreamHost.clear();
    x.ctx.tries = 0;
    x.ctx.exitMessage(403, "You cannot consume this service");
    json::object o = parse(plugins::log::serialize(x.ctx));
    // Kong maps both its "exit" and "error" sources to "kong".
    QCOMPARE(str(o.at("source")), std::string("kong"));
    QCOMPARE(o.at("response").at("status").to_number<int>(), 403);
    QCOMPARE(str(o.at("response").at("headers").at("content-type")),
             std::string("application/json; charset=utf-8"));
    QCOMPARE(str(o.at("upstream_status")), std::string(""));
    QCOMPARE(o.at("latencies").at("proxy").to_number<int>(), -1);
    QVERIFY(!o.contains("tries"));
  }

  void noRouteLeavesEntitiesOut() {
    Exchange x;
    x.ctx.route = nullptr;
    x.ctx.service = nullptr;
    json::object o = parse(plugins::log::serialize(x.ctx));
    QVERIFY(!o.contains("route"));
    QVERIFY(!o.contains("service"));
  }

  void escapesHostileValues() {
    logtest::ParsedRequest r(
        "GET /a%22b?k=%22%5C%0A HTTP/1.1\r\nHost: h\r\nX-Q: say \"hi\"\\\r\n\r\n");
    plugins::Context ctx;
    const char* base = r.bytes.data();
    ctx.bindRequest(&r.head, base);
    ctx.method = r.head.method.in(base);
    ctx.rawPath = r.head.path.in(base);
    ctx.query = r.head.query.in(base);
    ctx.host = "h";
    json::object o = parse(plugins::log::serialize(ctx));
    QCOMPARE(str(o.at("request").at("headers").at("x-q")), std::string("say \"hi\"\\"));
    QCOMPARE(str(o.at("request").at("querystring").at("k")), std::string("\"\\\n"));
    QCOMPARE(str(o.at("request").at("uri")), std::string("/a%22b?k=%22%5C%0A"));
  }

  void querystringDecodesLikeKong_data() {
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << ""
                           << "{}";
    QTest::newRow("repeated") << "a=1&a=2"
                              << "{\"a\":[\"1\",\"2\"]}";
    QTest::newRow("flag") << "flag"
                          << "{\"flag\":true}";
    QTest::newRow("empty value") << "e="
                                 << "{\"e\":\"\"}";
    QTest::newRow("flag and value") << "a&a=1"
                                    << "{\"a\":[true,\"1\"]}";
    QTest::newRow("empty name ignored") << "=x&&b=1"
                                        << "{\"b\":\"1\"}";
    QTest::newRow("percent and plus") << "a+b=c%2Fd%20e"
                                      << "{\"a b\":\"c/d e\"}";
    QTest::newRow("bad escape kept") << "k=%zz%4"
                                     << "{\"k\":\"%zz%4\"}";
  }
  void querystringDecodesLikeKong() {
    QFETCH(QString, query);
    QFETCH(QString, expected);
    std::string out;
    plugins::log::appendQueryJson(out, query.toStdString());
    QCOMPARE(QString::fromStdString(out), expected);
  }

  void querystringKeepsAtMostHundredArguments() {
    std::string q;
    for (int i = 0; i < 150; ++i) q += "k" + std::to_string(i) + "=v&";
    std::string out;
    plugins::log::appendQueryJson(out, q);
    QCOMPARE(parse(out).size(), std::size_t(100));
  }

  void cachedSerializerMatchesPlain() {
    Exchange x;
    core::Config config;
    config.services.push_back(x.service);
    config.routes.push_back(x.route);
    plugins::log::Serializer cached(config);
    QCOMPARE(cached.serialize(x.ctx), plugins::log::serialize(x.ctx));
  }

  void reusedScratchGivesIdenticalOutput() {
    Exchange a;
    std::string first = plugins::log::serialize(a.ctx);
    Exchange b(503);
    std::string other = plugins::log::serialize(b.ctx);
    QVERIFY(first != other);
    QCOMPARE(plugins::log::serialize(a.ctx), first);
  }
};

QTEST_GUILESS_MAIN(SerializerTest)
#include "serializer_test.moc"
