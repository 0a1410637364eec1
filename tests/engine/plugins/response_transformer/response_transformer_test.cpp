// response-transformer: schema, header edits in Kong's order against the headers the plugin
// started with, JSON body edits with json_types, and which bodies count as JSON.
#include <QtTest>
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "http/head_parser.h"
#include "plugins/response_transformer/mime_type.h"
#include "plugins/response_transformer/response_transformer.h"

using namespace archway;
namespace json = boost::json;

namespace {

using Values = std::vector<std::string>;

// A request and the upstream response to it, bound to a Context as the proxy binds them.
struct Exchange {
  std::string reqBytes = "GET /p HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string resBytes;
  std::string body;
  http::RequestHead req;
  http::ResponseHead res;
  plugins::Context ctx;

  explicit Exchange(std::string responseHead, std::string responseBody = {})
      : resBytes(std::move(responseHead)), body(std::move(responseBody)) {
    http::Limits limits;
    req.reserve(limits);
    res.reserve(limits);
    http::ParseError err;
    if (http::parseRequestHead(reqBytes.data(), reqBytes.size(), limits, req, err) !=
            http::ParseStatus::complete ||
        http::parseResponseHead(resBytes.data(), resBytes.size(), limits, res, err) !=
            http::ParseStatus::complete)
      qFatal("did not parse");
    ctx.bindRequest(&req, reqBytes.data());
    ctx.method = "GET";
    ctx.bindResponse(&res, resBytes.data());
    ctx.status = res.status;
    ctx.enter(0);
    ctx.setResponseBodyView(body);
  }

  Values client(std::string_view name) const {
    Values values;
    ctx.forEachResponseHeader([&](std::string_view n, std::string_view v) {
      if (QByteArray(n.data(), int(n.size())).toLower() ==
          QByteArray(name.data(), int(name.size())).toLower())
        values.emplace_back(v);
    });
    for (const auto& e : ctx.responseEdits) {
      if (QByteArray(e.name.data(), int(e.name.size())).toLower() !=
          QByteArray(name.data(), int(name.size())).toLower())
        continue;
      if (e.op == plugins::HeaderEdit::Op::set) values = {e.value};
      if (e.op == plugins::HeaderEdit::Op::add) values.push_back(e.value);
      if (e.op == plugins::HeaderEdit::Op::remove) values.clear();
    }
    return values;
  }

  void run(const plugins::Instance& inst) {
    inst.headerFilter(ctx);
    inst.bodyFilter(ctx);
  }
};

std::string head(const std::string& contentType, const std::string& extra = {}) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\n" + extra +
         "Content-Length: 10\r\n\r\n";
}

core::Result<json::object> validate(const std::string& configJson) {
  static auto factory = plugins::makeResponseTransformerPlugin();
  return plugins::schema::validate(factory->schema(), json::parse(configJson));
}

std::shared_ptr<const plugins::Instance> compile(const std::string& configJson) {
  static auto factory = plugins::makeResponseTransformerPlugin();
  auto valid = validate(configJson);
  if (!valid) qFatal("%s", valid.errorText().c_str());
  core::Config config;
  plugins::Persistent persistent;
  plugins::CompileEnv env(config, persistent);
  auto inst = factory->compile(core::Plugin{}, *valid, env);
  if (!inst) qFatal("%s", inst.errorText().c_str());
  return *inst;
}

json::object bodyOf(const Exchange& x) {
  if (!x.ctx.responseBodySet) return {};
  return json::parse(x.ctx.newResponseBody).as_object();
}

}  // namespace

class ResponseTransformerTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void schemaDefaultsAndMessages() {
    auto f = plugins::makeResponseTransformerPlugin();
    QCOMPARE(f->name(), std::string_view("response-transformer"));
    QCOMPARE(f->priority(), 800);
    auto v = validate("{}");
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(json::serialize(v->at("add")),
             std::string("{\"json\":[],\"json_types\":[],\"headers\":[]}"));
    QCOMPARE(json::serialize(v->at("remove")), std::string("{\"json\":[],\"headers\":[]}"));
    auto bad = validate(
        "{\"add\":{\"json\":[\"novalue\"],\"json_types\":[\"int\"]},"
        "\"rename\":{\"headers\":[\"x-a:bad name\"]}}");
    QVERIFY(!bad.ok());
    QCOMPARE(QString::fromStdString(bad.errorText()),
             QString("config.rename.headers[0]: 'bad name' is not a valid header\n"
                     "config.add.json[0]: invalid value: novalue\n"
                     "config.add.json_types[0]: expected one of: boolean, number, string"));
  }

  void headersFollowKongOrderAgainstTheStartingHeaders() {
    auto inst = compile(
        "{\"remove\":{\"headers\":[\"x-gone\",\"x-both\"]},"
        "\"rename\":{\"headers\":[\"x-old:x-new\",\"x-absent:x-never\"]},"
        "\"replace\":{\"headers\":[\"x-keep:replaced\",\"x-nothere:v\"]},"
        "\"add\":{\"headers\":[\"x-both:again\",\"x-added:a\",\"x-keep:no\"]},"
        "\"append\":{\"headers\":[\"x-keep:more\",\"x-app:1\"]}}");
    Exchange x(
        head("text/plain", "X-Gone: 1\r\nX-Both: 1\r\nX-Old: o1\r\nX-Old: o2\r\nX-Keep: k\r\n"));
    x.run(*inst);
    QCOMPARE(x.client("x-gone"), Values{});
    // Removed, and add still sees it in the headers the plugin started with.
    QCOMPARE(x.client("x-both"), Values{});
    QCOMPARE(x.client("x-old"), Values{});
    QCOMPARE(x.client("x-new"), (Values{"o1", "o2"}));
    QCOMPARE(x.client("x-never"), Values{});
    QCOMPARE(x.client("x-keep"), (Values{"replaced", "more"}));
    QCOMPARE(x.client("x-nothere"), Values{});
    QCOMPARE(x.client("x-added"), Values{"a"});
    QCOMPARE(x.client("x-app"), Values{"1"});
    QVERIFY(!x.ctx.responseBodySet);  // no JSON edits configured
    QVERIFY(!inst->needsResponseBody());
  }

  void jsonBodyIsEditedInOrderWithTypes() {
    auto inst = compile(
        "{\"remove\":{\"json\":[\"secret\"]},"
        "\"rename\":{\"json\":[\"old:new\"]},"
        "\"replace\":{\"json\":[\"count:42\",\"off:x\",\"nil:set\"],"
        "\"json_types\":[\"number\",\"string\",\"string\"]},"
        "\"add\":{\"json\":[\"flag:true\",\"off:added\",\"count:no\",\"ratio:0.5\",\"empty:\"],"
        "\"json_types\":[\"boolean\",\"string\",\"string\",\"number\"]},"
        "\"append\":{\"json\":[\"tags:b\",\"name:x\",\"obj:v\",\"n:2\"],"
        "\"json_types\":[\"string\",\"string\",\"string\",\"number\"]}}");
    Exchange x(head("application/json; charset=utf-8"),
               "{\"secret\":1,\"old\":\"o\",\"count\":1,\"off\":false,\"nil\":null,"
               "\"tags\":[\"a\"],\"name\":\"n\",\"obj\":{\"k\":1},\"n\":1}");
    x.run(*inst);
    QVERIFY(inst->needsResponseBody());
    auto b = bodyOf(x);
    QVERIFY(!b.contains("secret"));
    QVERIFY(!b.contains("old"));
    QCOMPARE(b.at("new").as_string(), "o");
    QCOMPARE(b.at("count").as_int64(), std::int64_t(42));
    QCOMPARE(b.at("off").as_string(), "added");  // false: not replaced, but added
    QCOMPARE(b.at("nil").as_string(), "set");    // null is a value for replace
    QCOMPARE(b.at("flag").as_bool(), true);
    QCOMPARE(b.at("ratio").as_double(), 0.5);
    QCOMPARE(b.at("empty").as_string(), "null");  // Kong encodes the nil value
    QCOMPARE(json::serialize(b.at("tags")), std::string("[\"a\",\"b\"]"));
    QCOMPARE(json::serialize(b.at("name")), std::string("[\"n\",\"x\"]"));
    QCOMPARE(json::serialize(b.at("obj")), std::string("{\"k\":1,\"1\":\"v\"}"));
    QCOMPARE(json::serialize(b.at("n")), std::string("[2]"));
  }

  void numberTypeFollowsLuaTonumber() {
    auto inst = compile(
        "{\"add\":{\"json\":[\"hex:0x10\",\"bad:12abc\",\"sp: 7 \",\"exp:1e3\"],"
        "\"json_types\":[\"number\",\"number\",\"number\",\"number\"]}}");
    Exchange x(head("application/json"), "{}");
    x.run(*inst);
    auto b = bodyOf(x);
    QCOMPARE(b.at("hex").as_int64(), std::int64_t(16));
    QVERIFY(!b.contains("bad"));  // tonumber fails: v == nil, nothing added
    QCOMPARE(b.at("sp").as_int64(), std::int64_t(7));
    QCOMPARE(b.at("exp").as_int64(), std::int64_t(1000));
  }

  void valuesAreEscapedAsKongDoes() {
    using plugins::response_transformer::jsonEscapedValue;
    QCOMPARE(jsonEscapedValue("a/b\"c"), std::string("a/b\"c"));
    QCOMPARE(jsonEscapedValue("a\\b"), std::string("a\\\\b"));
    QCOMPARE(jsonEscapedValue("t\tn\n"), std::string("t\\tn\\n"));
  }

  void onlyJsonBodiesAreEdited_data() {
    QTest::addColumn<QString>("contentType");
    QTest::addColumn<bool>("edited");
    QTest::newRow("json") << "application/json" << true;
    QTest::newRow("charset") << "application/json; charset=utf-8" << true;
    QTest::newRow("upper") << "Application/JSON" << true;
    QTest::newRow("problem+json") << "application/problem+json" << true;
    QTest::newRow("list") << "text/plain, application/json" << true;
    QTest::newRow("text") << "text/plain" << false;
    QTest::newRow("text/json") << "text/json" << false;
    QTest::newRow("bad params") << "application/json; charset" << false;
  }

  void onlyJsonBodiesAreEdited() {
    QFETCH(QString, contentType);
    QFETCH(bool, edited);
    auto inst = compile("{\"add\":{\"json\":[\"k:v\"]}}");
    Exchange x(head(contentType.toStdString()), "{\"a\":1}");
    x.run(*inst);
    QCOMPARE(x.ctx.responseBodySet, edited);
    if (edited) QCOMPARE(x.ctx.newResponseBody, std::string("{\"a\":1,\"k\":\"v\"}"));
  }

  void invalidOrNonObjectJsonIsLeftAlone() {
    auto inst = compile("{\"add\":{\"json\":[\"k:v\"]}}");
    Exchange bad(head("application/json"), "{nope");
    bad.run(*inst);
    QVERIFY(!bad.ctx.responseBodySet);
    Exchange arr(head("application/json"), "[1,2]");
    arr.run(*inst);
    QVERIFY(!arr.ctx.responseBodySet);
  }

  void contentTypeSetByHeaderStepCounts() {
    auto inst = compile(
        "{\"replace\":{\"headers\":[\"content-type:application/json\"]},"
        "\"add\":{\"json\":[\"k:v\"]}}");
    Exchange x(head("text/plain"), "{}");
    x.run(*inst);
    QCOMPARE(x.ctx.newResponseBody, std::string("{\"k\":\"v\"}"));
  }

  void mediaTypesParseAsKongDoes() {
    namespace mime = plugins::mime;
    auto m = mime::parse("Text/HTML; Charset=\"utf-8\";q=1");
    QVERIFY(m);
    QCOMPARE(m->type, std::string("text"));
    QCOMPARE(m->subtype, std::string("html"));
    QCOMPARE(m->params.size(), std::size_t(2));
    QCOMPARE(*m->param("charset"), std::string("utf-8"));
    QVERIFY(mime::parse("*/*"));
    QVERIFY(mime::parse("*"));
    QVERIFY(!mime::parse("application/json "));
    QVERIFY(!mime::parse("application"));
    QVERIFY(!mime::parse("a/b; c"));
    QVERIFY(mime::includes(*mime::parse("*/*"), *mime::parse("x/y")));
    QVERIFY(mime::includes(*mime::parse("text/*"), *mime::parse("text/plain")));
    QVERIFY(!mime::includes(*mime::parse("text/plain"), *mime::parse("text/html")));
  }
};

QTEST_GUILESS_MAIN(ResponseTransformerTest)
#include "response_transformer_test.moc"
