// request-transformer: schema checks, Kong's edit order (uri, method, headers, body,
// querystring; remove, rename, replace, add, append), JSON and form body edits, templates.
#include <QtTest>
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "http/head_parser.h"
#include "plugins/request_transformer/request_transformer.h"
#include "router/router.h"

using namespace archway;
namespace json = boost::json;
namespace rt = plugins::request_transformer;

namespace {

struct Request {
  std::string bytes;
  http::RequestHead head;
  plugins::Context ctx;
  core::Route route;

  explicit Request(std::string text, std::string_view body = {}) : bytes(std::move(text)) {
    http::Limits limits;
    head.reserve(limits);
    http::ParseError err;
    if (http::parseRequestHead(bytes.data(), bytes.size(), limits, head, err) !=
        http::ParseStatus::complete)
      qFatal("request did not parse");
    const char* b = bytes.data();
    ctx.bindRequest(&head, b);
    ctx.method = head.method.in(b);
    ctx.path = ctx.rawPath = head.path.in(b);
    ctx.query = head.query.in(b);
    ctx.contentLength = head.contentLength;
    route.id = "r1";
    ctx.route = &route;
    ctx.enter(0);
    if (head.contentLength >= 0) {
      bodyText.assign(body);
      ctx.setBody(bodyText);
    }
  }
  std::string bodyText;

  // Every value of a header as it goes upstream: the client's with the edits applied.
  std::vector<std::string> upstream(std::string_view name) const {
    std::vector<std::string> values;
    for (auto v : ctx.headers(name)) values.emplace_back(v);
    auto ieq = [](std::string_view a, std::string_view b) {
      return QString::fromUtf8(a.data(), int(a.size()))
                 .compare(QString::fromUtf8(b.data(), int(b.size())), Qt::CaseInsensitive) == 0;
    };
    for (const auto& e : ctx.requestEdits) {
      if (!ieq(e.name, name)) continue;
      if (e.op == plugins::HeaderEdit::Op::set) values = {e.value};
      if (e.op == plugins::HeaderEdit::Op::add) values.push_back(e.value);
      if (e.op == plugins::HeaderEdit::Op::remove) values.clear();
    }
    return values;
  }
};

using Values = std::vector<std::string>;

core::Result<json::object> validate(const std::string& configJson) {
  static auto factory = plugins::makeRequestTransformerPlugin();
  return plugins::schema::validate(factory->schema(), json::parse(configJson));
}

std::shared_ptr<const plugins::Instance> compile(const std::string& configJson,
                                                 const core::Config& config = {}) {
  static auto factory = plugins::makeRequestTransformerPlugin();
  auto valid = validate(configJson);
  if (!valid) qFatal("%s", valid.errorText().c_str());
  plugins::Persistent persistent;
  plugins::CompileEnv env(config, persistent);
  core::Plugin entity;
  entity.name = "request-transformer";
  auto inst = factory->compile(entity, *valid, env);
  if (!inst) qFatal("%s", inst.errorText().c_str());
  return *inst;
}

std::string post(const std::string& target, const std::string& contentType, const std::string& body,
                 const std::string& extra = {}) {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n";
}

}  // namespace

class RequestTransformerTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void schemaFillsEmptyListsAndKongPriority() {
    auto f = plugins::makeRequestTransformerPlugin();
    QCOMPARE(f->name(), std::string_view("request-transformer"));
    QCOMPARE(f->priority(), 801);
    auto v = validate("{}");
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(json::serialize(v->at("add")),
             std::string("{\"body\":[],\"headers\":[],\"querystring\":[]}"));
    QCOMPARE(json::serialize(v->at("replace")),
             std::string("{\"body\":[],\"headers\":[],\"querystring\":[],\"uri\":null}"));
    QVERIFY(v->at("http_method").is_null());
  }

  void schemaReportsKongMessages_data() {
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("error");
    QTest::newRow("method") << "{\"http_method\":\"get\"}"
                            << "config.http_method: invalid value: get";
    QTest::newRow("header name") << "{\"add\":{\"headers\":[\"bad header:v\"]}}"
                                 << "config.add.headers[0]: 'bad header' is not a valid header";
    QTest::newRow("header without colon") << "{\"append\":{\"headers\":[\"x-a\"]}}"
                                          << "config.append.headers[0]: invalid value: x-a";
    QTest::newRow("rename target") << "{\"rename\":{\"headers\":[\"a:b c\"]}}"
                                   << "config.rename.headers[0]: 'b c' is not a valid header";
    QTest::newRow("no value") << "{\"add\":{\"querystring\":[\"q\"]}}"
                              << "config.add.querystring[0]: key 'q' has no value";
    QTest::newRow("lua code") << "{\"add\":{\"body\":[\"k:$(os.exit())\"]}}"
                              << "config.add.body[0]: value '$(os.exit())' is not in supported "
                                 "format, error:only headers, query_params and uri_captures "
                                 "lookups are supported";
    QTest::newRow("remove header name") << "{\"remove\":{\"headers\":[\"a b\"]}}"
                                        << "config.remove.headers[0]: 'a b' is not a valid header";
  }

  void schemaReportsKongMessages() {
    QFETCH(QString, config);
    QFETCH(QString, error);
    auto v = validate(config.toStdString());
    QVERIFY(!v.ok());
    QCOMPARE(QString::fromStdString(v.errorText()), error);
  }

  void compileRefusesUnsupportedTemplatesInHeadersAndUri() {
    auto f = plugins::makeRequestTransformerPlugin();
    auto v = validate(
        "{\"add\":{\"headers\":[\"x:$(string.rep('a', 3))\"]},"
        "\"replace\":{\"uri\":\"/$(ngx.var.uri)\"}}");
    QVERIFY(v.ok());
    core::Config c;
    plugins::Persistent p;
    plugins::CompileEnv env(c, p);
    auto inst = f->compile(core::Plugin{}, *v, env);
    QVERIFY(!inst.ok());
    QCOMPARE(inst.errors().size(), std::size_t(2));
    QCOMPARE(inst.errors()[0].path, std::string("config.add.headers[0]"));
    QCOMPARE(inst.errors()[1].path, std::string("config.replace.uri"));
  }

  void headersFollowRemoveRenameReplaceAddAppend() {
    auto inst = compile(
        "{\"remove\":{\"headers\":[\"x-a\"]},"
        "\"rename\":{\"headers\":[\"x-b:x-c\"]},"
        "\"replace\":{\"headers\":[\"x-c:replaced\",\"x-d:rd\"]},"
        "\"add\":{\"headers\":[\"x-a:added\",\"x-c:not-added\",\"X-New:n\"]},"
        "\"append\":{\"headers\":[\"x-new:n2\",\"x-e:e\"]}}");
    Request r("GET /p HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-B: 2\r\nX-E: 0\r\n\r\n");
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(r.upstream("x-a"), Values{"added"});  // removed first, then added again
    QCOMPARE(r.upstream("x-b"), Values{});
    QCOMPARE(r.upstream("x-c"), Values{"replaced"});  // renamed from x-b, then replaced
    QCOMPARE(r.upstream("x-d"), Values{});            // replace needs the header present
    QCOMPARE(r.upstream("x-new"), (Values{"n", "n2"}));
    QCOMPARE(r.upstream("x-e"), (Values{"0", "e"}));
    QVERIFY(!r.ctx.upstreamQuerySet);
    QVERIFY(!r.ctx.upstreamBodySet);
  }

  void hostIsReplacedButNeverAdded() {
    auto inst = compile("{\"replace\":{\"headers\":[\"host:upstream.test\"]}}");
    Request r("GET /p HTTP/1.1\r\nHost: client.test\r\n\r\n");
    inst->access(r.ctx);
    QCOMPARE(r.upstream("host"), Values{"upstream.test"});
    auto add = compile("{\"add\":{\"headers\":[\"host:other\"]}}");
    Request q("GET /p HTTP/1.1\r\nHost: client.test\r\n\r\n");
    add->access(q.ctx);
    QVERIFY(q.ctx.requestEdits.empty());
  }

  void seesHeadersSetByEarlierPlugins() {
    auto inst = compile("{\"rename\":{\"headers\":[\"X-Consumer-ID:X-User\"]}}");
    Request r("GET /p HTTP/1.1\r\nHost: x\r\n\r\n");
    r.ctx.setRequestHeader("X-Consumer-ID", "c-1");
    inst->access(r.ctx);
    QCOMPARE(r.upstream("x-user"), Values{"c-1"});
    QCOMPARE(r.upstream("x-consumer-id"), Values{});
  }

  void querystringIsEditedInOrderAndSorted() {
    auto inst = compile(
        "{\"remove\":{\"querystring\":[\"c\"]},"
        "\"rename\":{\"querystring\":[\"b:bb\"]},"
        "\"replace\":{\"querystring\":[\"a:10\",\"zz:never\"]},"
        "\"add\":{\"querystring\":[\"a:no\",\"d:4\"]},"
        "\"append\":{\"querystring\":[\"d:5\",\"sp:a b&c\"]}}");
    Request r("GET /p?b=2&a=1&flag&c=x HTTP/1.1\r\nHost: x\r\n\r\n");
    inst->access(r.ctx);
    QVERIFY(r.ctx.upstreamQuerySet);
    QCOMPARE(r.ctx.upstreamQuery, std::string("a=10&bb=2&d=4&d=5&flag&sp=a%20b%26c"));
  }

  void argsDecodeAndEncodeAsNgxDoes() {
    auto args = rt::decodeArgs("a=1&b&a=x+y%21&=skip&&c=");
    QCOMPARE(args.size(), std::size_t(3));
    QCOMPARE(args[0].name, std::string("a"));
    QCOMPARE(args[0].values, (Values{"1", "x y!"}));
    QVERIFY(args[1].flag);
    QCOMPARE(args[2].values, Values{""});
    QCOMPARE(rt::encodeArgs(args), std::string("a=1&a=x%20y%21&b&c="));
    QCOMPARE(rt::encodeArgsSorted(rt::decodeArgs("z=1&b=2&a=3")), std::string("a=3&b=2&z=1"));
  }

  void jsonBodyEditsFollowKongTruthiness() {
    auto inst = compile(
        "{\"remove\":{\"body\":[\"secret\"]},"
        "\"rename\":{\"body\":[\"old:new\",\"off:renamed\"]},"
        "\"replace\":{\"body\":[\"name:bob\",\"nil:was-null\",\"off:x\",\"missing:x\"]},"
        "\"add\":{\"body\":[\"name:no\",\"flag:added\",\"extra:1\"]},"
        "\"append\":{\"body\":[\"tags:b\",\"one:2\",\"num:3\"]}}");
    std::string body =
        "{\"secret\":\"s\",\"old\":1,\"name\":\"al\",\"nil\":null,\"off\":false,"
        "\"flag\":false,\"tags\":[\"a\"],\"one\":\"1\",\"num\":7}";
    Request r(post("/p", "application/json; charset=utf-8", body), body);
    inst->access(r.ctx);
    QVERIFY(r.ctx.upstreamBodySet);
    auto out = json::parse(r.ctx.upstreamBody).as_object();
    QVERIFY(!out.contains("secret"));
    QVERIFY(!out.contains("old"));
    QCOMPARE(out.at("new").as_int64(), std::int64_t(1));
    QVERIFY(out.contains("off"));  // false is not renamed, replaced
    QVERIFY(!out.contains("renamed"));
    QCOMPARE(out.at("off").as_bool(), false);
    QCOMPARE(out.at("name").as_string(), "bob");
    QCOMPARE(out.at("nil").as_string(), "was-null");  // null is a value in Lua (cjson.null)
    QVERIFY(!out.contains("missing"));
    QCOMPARE(out.at("flag").as_string(), "added");  // false counts as absent for add
    QCOMPARE(out.at("extra").as_string(), "1");
    QCOMPARE(json::serialize(out.at("tags")), std::string("[\"a\",\"b\"]"));
    QCOMPARE(json::serialize(out.at("one")), std::string("[\"1\",\"2\"]"));
    QCOMPARE(json::serialize(out.at("num")), std::string("[\"3\"]"));
  }

  void jsonBodyAddCreatesAnObjectForAnEmptyBody() {
    auto inst = compile("{\"add\":{\"body\":[\"k:v\"]},\"remove\":{\"body\":[\"z\"]}}");
    Request r(post("/p", "application/json", ""), "");
    inst->access(r.ctx);
    QCOMPARE(r.ctx.upstreamBody, std::string("{\"k\":\"v\"}"));
  }

  void invalidJsonAndMultipartBodiesPassUnchanged() {
    auto inst = compile("{\"add\":{\"body\":[\"k:v\"]}}");
    Request r(post("/p", "application/json", "{oops"), "{oops");
    inst->access(r.ctx);
    QVERIFY(!r.ctx.upstreamBodySet);
    Request m(post("/p", "multipart/form-data; boundary=x", "--x\r\n\r\nv"), "--x\r\n\r\nv");
    inst->access(m.ctx);
    QVERIFY(!m.ctx.upstreamBodySet);
    Request nb(post("/p", "multipart/form-data", "--x--"), "--x--");  // no boundary
    inst->access(nb.ctx);
    QVERIFY(!nb.ctx.upstreamBodySet);
    Request t(post("/p", "text/plain", "hello"), "hello");
    inst->access(t.ctx);
    QVERIFY(!t.ctx.upstreamBodySet);
  }

  void multipartBodyIsEdited() {
    auto inst = compile("{\"add\":{\"body\":[\"k:v\"]},\"remove\":{\"body\":[\"z\"]}}");
    const std::string body =
        "--x\r\nContent-Disposition: form-data; name=\"z\"\r\n\r\n1\r\n"
        "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nF\r\n--x--\r\n";
    Request m(post("/p", "multipart/form-data; boundary=x", body), body);
    inst->access(m.ctx);
    QVERIFY(m.ctx.upstreamBodySet);
    QCOMPARE(
        m.ctx.upstreamBody,
        std::string("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nF\r\n"
                    "--x\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--x--\r\n"));
  }

  void formBodyIsEdited() {
    auto inst = compile(
        "{\"remove\":{\"body\":[\"pw\"]},\"rename\":{\"body\":[\"u:user\"]},"
        "\"replace\":{\"body\":[\"mode:new\"]},\"add\":{\"body\":[\"mode:no\",\"x:a b\"]},"
        "\"append\":{\"body\":[\"tag:2\"]}}");
    std::string body = "u=al&pw=secret&mode=old&tag=1";
    Request r(post("/p", "application/x-www-form-urlencoded", body), body);
    inst->access(r.ctx);
    QCOMPARE(r.ctx.upstreamBody, std::string("user=al&mode=new&tag=1&tag=2&x=a%20b"));
  }

  void bodyStepSeesContentTypeFromHeaderStep() {
    auto inst = compile(
        "{\"replace\":{\"headers\":[\"content-type:application/json\"]},"
        "\"add\":{\"body\":[\"k:v\"]}}");
    std::string body = "{\"a\":1}";
    Request r(post("/p", "text/plain", body), body);
    inst->access(r.ctx);
    QCOMPARE(r.ctx.upstreamBody, std::string("{\"a\":1,\"k\":\"v\"}"));
  }

  void httpMethodGetMovesFormBodyIntoQuery() {
    auto inst = compile("{\"http_method\":\"GET\"}");
    std::string body = "b=2&a=9";
    Request r(post("/p?a=1", "application/x-www-form-urlencoded", body), body);
    inst->access(r.ctx);
    QVERIFY(r.ctx.upstreamMethodSet);
    QCOMPARE(r.ctx.upstreamMethod, std::string("GET"));
    QCOMPARE(r.ctx.upstreamQuery, std::string("a=1&a=9&b=2"));
    QVERIFY(inst->needsRequestBody());
  }

  void templatesRenderHeadersQueryAndCaptures() {
    core::Config config;
    core::Route route;
    route.id = "r1";
    route.paths = {"~/u/(?P<id>\\d+)(/(?P<rest>.*))?"};
    config.routes.push_back(route);
    auto router = router::Router::build(config, {0});
    QVERIFY(router.ok());
    // The captures as the proxy hands them over: the winning regex's groups.
    router::Captures caps, anonCaps;
    auto captureInto = [&](Request& req, router::Captures& out) {
      router::RequestView v;
      v.method = req.ctx.method;
      v.host = "x";
      v.path = req.ctx.path;
      auto m = (*router)->match(v);
      QVERIFY(m.byRegex());
      QVERIFY((*router)->captures(m, req.ctx.path, out));
      req.ctx.uriCaptures = &out;
    };
    auto inst = compile(
        "{\"replace\":{\"uri\":\"/users/$(uri_captures.id)/$(uri_captures[\\\"rest\\\"] or "
        "'none')\"},"
        "\"add\":{\"headers\":[\"x-user:$(query_params.user)\","
        "\"x-client:$(headers.x_client or 'anon')\",\"x-missing:[$(headers.nope)]\","
        "\"x-flag:$(query_params['f'])\",\"x-whole:$(uri_captures[0])\"],"
        "\"querystring\":[\"from:$(headers[\\\"X-Client\\\"])\"]}}",
        config);
    QVERIFY(inst->usesUriCaptures());
    Request r("GET /u/42?user=al%20b&f HTTP/1.1\r\nHost: x\r\nX-Client: web\r\n\r\n");
    captureInto(r, caps);
    inst->access(r.ctx);
    QCOMPARE(r.ctx.upstreamPath, std::string("/users/42/none"));
    QCOMPARE(r.upstream("x-user"), Values{"al b"});
    QCOMPARE(r.upstream("x-client"), Values{"web"});  // not added: the client sent one
    QCOMPARE(r.upstream("x-missing"), Values{"[]"});
    QCOMPARE(r.upstream("x-flag"), Values{"true"});
    QCOMPARE(r.upstream("x-whole"), Values{"/u/42"});
    QCOMPARE(r.ctx.upstreamQuery, std::string("f&from=web&user=al%20b"));

    Request anon("GET /u/7/more HTTP/1.1\r\nHost: x\r\n\r\n");
    captureInto(anon, anonCaps);
    inst->access(anon.ctx);
    QCOMPARE(anon.ctx.upstreamPath, std::string("/users/7/more"));
    QCOMPARE(anon.upstream("x-client"), Values{"anon"});
  }

  void uriTemplateRenderingWithoutLeadingSlashIsAServerError() {
    auto inst = compile("{\"replace\":{\"uri\":\"$(query_params.to)\"}}");
    Request r("GET /p?to=relative HTTP/1.1\r\nHost: x\r\n\r\n");
    inst->access(r.ctx);
    QVERIFY(r.ctx.exited());
    QCOMPARE(r.ctx.exitStatus(), 500);
    Request ok("GET /p?to=/abs HTTP/1.1\r\nHost: x\r\n\r\n");
    inst->access(ok.ctx);
    QCOMPARE(ok.ctx.upstreamPath, std::string("/abs"));
  }

  void valuesKeepColonsAfterTheName() {
    auto inst = compile("{\"add\":{\"headers\":[\"x-url:http://a:8080/p\"]}}");
    Request r("GET /p HTTP/1.1\r\nHost: x\r\n\r\n");
    inst->access(r.ctx);
    QCOMPARE(r.upstream("x-url"), Values{"http://a:8080/p"});
  }
};

QTEST_GUILESS_MAIN(RequestTransformerTest)
#include "request_transformer_test.moc"
