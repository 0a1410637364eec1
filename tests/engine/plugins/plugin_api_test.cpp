// The plugin API: the per-request Context over a real parsed head, and schema validation with
// Kong's messages, defaults and field paths.
#include <QtTest>
#include <boost/json.hpp>
#include <string>

#include "http/head_parser.h"
#include "plugins/plugin.h"
#include "plugins/schema.h"

using namespace archway;
namespace json = boost::json;
namespace sc = plugins::schema;

namespace {

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

sc::Schema rateSchema() {
  sc::Schema s;
  s.name = "test";
  s.fields = {
      sc::number("minute").greater(0),
      sc::str("policy").def("local").one({"local", "cluster", "redis"}),
      sc::integer("error_code").def(429).between(100, 599),
      sc::boolean("fault_tolerant").def(true),
      sc::arrayOf("key_names", sc::str("")).def(json::array{"apikey"}).minLen(1),
      sc::setOf("groups", sc::str("")),
      sc::mapOf("headers", sc::str("")),
      sc::record("redis", {sc::str("host"), sc::integer("port").def(6379).between(0, 65535)}),
      sc::str("header_name").req(),
  };
  s.entityCheck = [](const json::object& c, core::Errors& errors) {
    if (c.at("policy").as_string() == "redis" && c.at("redis").at("host").is_null())
      errors.push_back({"redis.host", "required field missing"});
  };
  return s;
}

QString errorsOf(const core::Result<json::object>& r) {
  return QString::fromStdString(r.errorText());
}

}  // namespace

class PluginApiTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void contextReadsHeadersAndQuery() {
    ParsedRequest r(
        "GET /a/b?apikey=k1&flag&x=2 HTTP/1.1\r\nHost: example.com\r\nX-Api: one\r\n"
        "x-api: two\r\nContent-Length: 0\r\n\r\n");
    plugins::Context ctx;
    ctx.bindRequest(&r.head, r.bytes.data());
    ctx.query = r.head.query.in(r.bytes.data());
    QCOMPARE(ctx.header("x-API"), std::string_view("one"));
    QCOMPARE(ctx.headers("X-Api").size(), std::size_t(2));
    QVERIFY(ctx.hasHeader("host"));
    QVERIFY(!ctx.hasHeader("authorization"));
    QCOMPARE(ctx.queryArg("apikey"), std::string_view("k1"));
    QVERIFY(ctx.hasQueryArg("flag"));
    QCOMPARE(ctx.queryArg("flag"), std::string_view());
    QVERIFY(!ctx.hasQueryArg("fla"));
    int n = 0;
    ctx.forEachHeader([&](std::string_view, std::string_view) { ++n; });
    QCOMPARE(n, 4);
  }

  void exitMessageIsEscapedJson() {
    plugins::Context ctx;
    ctx.exitMessage(401, "No \"key\"\n");
    QVERIFY(ctx.exited());
    QCOMPARE(ctx.exitStatus(), 401);
    QCOMPARE(ctx.status, 401);
    QVERIFY(ctx.source == plugins::Source::exit);
    auto v = json::parse(std::string(ctx.exitBody()));
    QCOMPARE(std::string(v.at("message").as_string()), std::string("No \"key\"\n"));
    QCOMPARE(ctx.responseHeader("content-type"),
             std::string_view("application/json; charset=utf-8"));
  }

  void authenticateSetsConsumerHeaders() {
    core::Consumer c;
    c.id = "c-1";
    c.username = "alice";
    plugins::Context ctx;
    ctx.authenticate(&c, "cred-9", false);
    QCOMPARE(ctx.consumer, &c);
    QCOMPARE(ctx.credentialId, std::string("cred-9"));
    auto find = [&](std::string_view name) -> const plugins::HeaderEdit* {
      const plugins::HeaderEdit* last = nullptr;
      for (const auto& e : ctx.requestEdits)
        if (e.name == name) last = &e;
      return last;
    };
    QCOMPARE(find("X-Consumer-ID")->value, std::string("c-1"));
    QCOMPARE(find("X-Consumer-Username")->value, std::string("alice"));
    QVERIFY(find("X-Consumer-Custom-ID")->op == plugins::HeaderEdit::Op::remove);
    QCOMPARE(find("X-Credential-Identifier")->value, std::string("cred-9"));
    QVERIFY(find("X-Anonymous-Consumer")->op == plugins::HeaderEdit::Op::remove);
    ctx.reset();
    QVERIFY(ctx.requestEdits.empty());
    QVERIFY(!ctx.consumer);
    QVERIFY(!ctx.exited());
  }

  void editListReusesEntriesAcrossRequests() {
    plugins::EditList edits;
    edits.push(plugins::HeaderEdit::Op::set, "X-RateLimit-Remaining-Second", "99");
    edits.push(plugins::HeaderEdit::Op::add, "X-Long-Header-Name-Number-Two", "v2");
    edits.push(plugins::HeaderEdit::Op::remove, "X-Gone", "");
    QCOMPARE(edits.size(), std::size_t(3));
    edits.clear();
    QVERIFY(edits.empty());
    QVERIFY(edits.begin() == edits.end());
    edits.push(plugins::HeaderEdit::Op::add, "X-New", "1");
    QCOMPARE(edits.size(), std::size_t(1));
    int seen = 0;
    for (const auto& e : edits) {
      ++seen;
      QCOMPARE(e.name, std::string("X-New"));
      QCOMPARE(e.value, std::string("1"));
      QVERIFY(e.op == plugins::HeaderEdit::Op::add);
    }
    QCOMPARE(seen, 1);
    edits.push(plugins::HeaderEdit::Op::remove, "X-B", "");
    QCOMPARE(edits[1].name, std::string("X-B"));
    QCOMPARE(edits[1].value, std::string());  // not the "v2" the slot held before
  }

  // push() skips the supersede scan for a name it has not seen since clear(): a set must still
  // supersede an earlier add or set of the same name (any case), and only that one, also after
  // clear() (the name filter is reset with the list).
  void editListSupersedesOnlyTheSameName() {
    using Op = plugins::HeaderEdit::Op;
    plugins::EditList edits;
    for (int round = 0; round < 2; ++round) {
      edits.clear();
      edits.push(Op::add, "X-Consumer-ID", "a");
      edits.push(Op::set, "X-RateLimit-Limit-Minute", "5");
      edits.push(Op::set, "RateLimit-Limit", "5");
      edits.push(Op::add, "x-consumer-id", "b");
      edits.push(Op::set, "X-CONSUMER-ID", "c");
      edits.push(Op::remove, "ratelimit-limit", "");
      QCOMPARE(edits.size(), std::size_t(6));
      QVERIFY(edits[0].superseded);
      QVERIFY(!edits[1].superseded);
      QVERIFY(edits[2].superseded);
      QVERIFY(edits[3].superseded);
      QVERIFY(!edits[4].superseded);
      QVERIFY(!edits[5].superseded);
      QVERIFY(edits.mayReplace(plugins::headerNameKey("x-consumer-id")));
    }
    edits.clear();
    edits.push(Op::add, "X-Fresh", "1");
    edits.push(Op::set, "X-Other", "2");  // a new name: supersedes nothing
    QVERIFY(!edits[0].superseded);
    QVERIFY(!edits[1].superseded);
  }

  void scratchIsPerPluginAndCleared() {
    plugins::Context ctx;
    ctx.enter(0);
    ctx.scratch() = "first";
    ctx.enter(2);
    ctx.scratch() = "third";
    ctx.enter(0);
    QCOMPARE(ctx.scratch(), std::string("first"));
    ctx.reset();
    ctx.enter(2);
    QVERIFY(ctx.scratch().empty());
  }

  void schemaFillsDefaults() {
    auto r = sc::validate(rateSchema(), json::parse("{\"header_name\":\"h\"}"));
    QVERIFY2(r.ok(), qPrintable(errorsOf(r)));
    const auto& c = *r;
    QCOMPARE(std::string(c.at("policy").as_string()), std::string("local"));
    QCOMPARE(c.at("error_code").as_int64(), std::int64_t(429));
    QCOMPARE(c.at("fault_tolerant").as_bool(), true);
    QCOMPARE(c.at("key_names").as_array().size(), std::size_t(1));
    QVERIFY(c.at("minute").is_null());
    // A record without a value takes its fields' defaults.
    QCOMPARE(c.at("redis").at("port").as_int64(), std::int64_t(6379));
    QVERIFY(c.at("redis").at("host").is_null());
  }

  void schemaReportsEveryErrorWithPaths() {
    auto r = sc::validate(rateSchema(),
                          json::parse("{\"minute\":0,\"policy\":\"disk\",\"error_code\":99,"
                                      "\"fault_tolerant\":\"yes\",\"key_names\":[],\"bogus\":1,"
                                      "\"redis\":{\"port\":\"x\"}}"));
    QVERIFY(!r.ok());
    std::map<std::string, std::string> byPath;
    for (const auto& e : r.errors()) byPath[e.path] = e.message;
    QCOMPARE(byPath["config.minute"], std::string("value must be greater than 0"));
    QCOMPARE(byPath["config.policy"], std::string("expected one of: local, cluster, redis"));
    QCOMPARE(byPath["config.error_code"], std::string("value should be between 100 and 599"));
    QCOMPARE(byPath["config.fault_tolerant"], std::string("expected a boolean"));
    QCOMPARE(byPath["config.key_names"], std::string("length must be at least 1"));
    QCOMPARE(byPath["config.bogus"], std::string("unknown field"));
    QCOMPARE(byPath["config.redis.port"], std::string("expected an integer"));
    QCOMPARE(byPath["config.header_name"], std::string("required field missing"));
    QCOMPARE(r.errors().size(), std::size_t(8));
  }

  void schemaEntityCheckRunsAfterFields() {
    auto r = sc::validate(rateSchema(),
                          json::parse("{\"header_name\":\"h\",\"policy\":\"redis\"}"));
    QVERIFY(!r.ok());
    QCOMPARE(r.errors().size(), std::size_t(1));
    QCOMPARE(r.errors()[0].path, std::string("config.redis.host"));
  }

  void schemaCoercesFormStrings() {
    sc::ValidateOptions o;
    o.coerceStrings = true;
    auto r = sc::validate(rateSchema(),
                          json::parse("{\"header_name\":\"h\",\"minute\":\"5\",\"error_code\":\"418\","
                                      "\"fault_tolerant\":\"false\",\"key_names\":\"token\"}"),
                          o);
    QVERIFY2(r.ok(), qPrintable(errorsOf(r)));
    QCOMPARE(r->at("minute").as_double(), 5.0);
    QCOMPARE(r->at("error_code").as_int64(), std::int64_t(418));
    QCOMPARE(r->at("fault_tolerant").as_bool(), false);
    QCOMPARE(std::string(r->at("key_names").as_array()[0].as_string()), std::string("token"));
    // Without coercion the same strings are type errors.
    auto strict = sc::validate(rateSchema(), json::parse("{\"header_name\":\"h\",\"minute\":\"5\"}"));
    QVERIFY(!strict.ok());
  }

  void schemaSetsDropDuplicatesAndMapsCheckValues() {
    auto r = sc::validate(rateSchema(),
                          json::parse("{\"header_name\":\"h\",\"groups\":[\"a\",\"b\",\"a\"],"
                                      "\"headers\":{\"x\":1}}"));
    QVERIFY(!r.ok());
    QCOMPARE(r.errors()[0].path, std::string("config.headers.x"));
    auto ok = sc::validate(rateSchema(),
                           json::parse("{\"header_name\":\"h\",\"groups\":[\"a\",\"b\",\"a\"]}"));
    QVERIFY(ok.ok());
    QCOMPARE(ok->at("groups").as_array().size(), std::size_t(2));
  }

  void schemaJsonHasKongShape() {
    auto j = sc::toJson(rateSchema());
    const auto& fields = j.at("fields").as_array();
    const json::object* config = nullptr;
    for (const auto& f : fields) {
      if (f.as_object().contains("config")) config = &f.as_object().at("config").as_object();
    }
    QVERIFY(config);
    QCOMPARE(std::string(config->at("type").as_string()), std::string("record"));
    const auto& cf = config->at("fields").as_array();
    QCOMPARE(cf.size(), std::size_t(9));
    const auto& policy = cf[1].as_object().at("policy").as_object();
    QCOMPARE(std::string(policy.at("default").as_string()), std::string("local"));
    QCOMPARE(policy.at("one_of").as_array().size(), std::size_t(3));
    const auto& code = cf[2].as_object().at("error_code").as_object();
    QCOMPARE(code.at("between").as_array().size(), std::size_t(2));
  }
};

QTEST_GUILESS_MAIN(PluginApiTest)
#include "plugin_api_test.moc"
