// request-termination: Kong's schema checks and defaults, fixed answers, trigger, echo.
#include <QtTest>
#include <boost/json.hpp>
#include <string>

#include "http/head_parser.h"
#include "plugins/plugin.h"
#include "plugins/request_termination/request_termination.h"

using namespace archway;
namespace json = boost::json;

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
  void bind(plugins::Context& ctx) const {
    const char* b = bytes.data();
    ctx.bindRequest(&head, b);
    ctx.method = head.method.in(b);
    ctx.path = head.path.in(b);
    ctx.rawPath = head.path.in(b);
    ctx.query = head.query.in(b);
    if (head.host >= 0) ctx.host = head.headers[static_cast<std::size_t>(head.host)].value.in(b);
    ctx.clientIp = "10.0.0.7";
    ctx.port = 8000;
    ctx.contentLength = head.contentLength;
    ctx.chunked = head.chunked;
  }
};

struct Compiled {
  std::unique_ptr<plugins::Factory> factory = plugins::makeRequestTerminationPlugin();
  core::Config config;
  plugins::Persistent persistent;
  std::shared_ptr<const plugins::Instance> instance;
  QString error;

  explicit Compiled(const std::string& configJson) {
    auto valid = plugins::schema::validate(factory->schema(), json::parse(configJson));
    if (!valid) {
      error = QString::fromStdString(valid.errorText());
      return;
    }
    core::Plugin entity;
    entity.id = "11111111-1111-1111-1111-111111111111";
    entity.name = "request-termination";
    plugins::CompileEnv env(config, persistent);
    auto inst = factory->compile(entity, *valid, env);
    if (!inst) {
      error = QString::fromStdString(inst.errorText());
      return;
    }
    instance = *inst;
  }
};

core::Result<json::object> validate(const std::string& text) {
  auto f = plugins::makeRequestTerminationPlugin();
  return plugins::schema::validate(f->schema(), json::parse(text));
}

std::string firstError(const core::Result<json::object>& r) {
  return r.errors().empty() ? std::string() : r.errors()[0].text();
}

}  // namespace

class RequestTerminationTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void factoryHasKongNameAndPriority() {
    auto f = plugins::makeRequestTerminationPlugin();
    QCOMPARE(f->name(), std::string_view("request-termination"));
    QCOMPARE(f->priority(), 2);
  }

  void schemaFillsKongDefaults() {
    auto r = validate("{}");
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(r->at("status_code").as_int64(), std::int64_t(503));
    QCOMPARE(r->at("echo").as_bool(), false);
    QVERIFY(r->at("message").is_null());
    QVERIFY(r->at("trigger").is_null());
  }

  void schemaRejectsStatusOutsideRange() {
    auto r = validate("{\"status_code\":99}");
    QCOMPARE(firstError(r), std::string("config.status_code: value should be between 100 and 599"));
    QVERIFY(!validate("{\"status_code\":600}").ok());
    QVERIFY(validate("{\"status_code\":599}").ok());
  }

  void schemaRejectsMessageWithBody() {
    auto r = validate("{\"message\":\"m\",\"body\":\"b\"}");
    QCOMPARE(firstError(r),
             std::string("config: message cannot be used with content_type or body"));
  }

  void schemaRejectsContentTypeWithoutBody() {
    auto r = validate("{\"content_type\":\"text/html\"}");
    QCOMPARE(firstError(r), std::string("config: content_type requires a body"));
  }

  void schemaRejectsEchoWithBody() {
    auto r = validate("{\"echo\":true,\"body\":\"b\"}");
    QCOMPARE(firstError(r), std::string("config: echo cannot be used with content_type and body"));
  }

  void schemaRejectsBadTriggerHeaderName() {
    auto r = validate("{\"trigger\":\"x y\"}");
    QCOMPARE(firstError(r),
             std::string("config.trigger: bad header name 'x y', allowed characters are A-Z, a-z, "
                         "0-9, '_', and '-'"));
  }

  void defaultAnswersServiceUnavailable() {
    Compiled c("{}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QVERIFY(ctx.exited());
    QCOMPARE(ctx.exitStatus(), 503);
    QCOMPARE(ctx.exitBody(), std::string_view("{\"message\":\"Service unavailable\"}"));
    QCOMPARE(ctx.exitContentType(), std::string_view("application/json; charset=utf-8"));
  }

  void customStatusAndMessage() {
    Compiled c("{\"status_code\":418,\"message\":\"teapot\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QCOMPARE(ctx.exitStatus(), 418);
    QCOMPARE(ctx.exitBody(), std::string_view("{\"message\":\"teapot\"}"));
  }

  void statusWithoutDefaultTextHasEmptyBody() {
    Compiled c("{\"status_code\":418}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QVERIFY(ctx.exited());
    QCOMPARE(ctx.exitStatus(), 418);
    QVERIFY(ctx.exitBody().empty());
  }

  void rawBodyWithContentType() {
    Compiled c("{\"status_code\":200,\"body\":\"<h1>down</h1>\",\"content_type\":\"text/html\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QCOMPARE(ctx.exitStatus(), 200);
    QCOMPARE(ctx.exitBody(), std::string_view("<h1>down</h1>"));
    QCOMPARE(ctx.exitContentType(), std::string_view("text/html"));
  }

  void triggerAbsentLetsRequestThrough() {
    Compiled c("{\"trigger\":\"X-Terminate\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x?other=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QVERIFY(!ctx.exited());
  }

  void triggerHeaderTerminates() {
    Compiled c("{\"trigger\":\"X-Terminate\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x HTTP/1.1\r\nHost: a\r\nx-terminate: \r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QVERIFY(ctx.exited());
    QCOMPARE(ctx.exitStatus(), 503);
  }

  void triggerQueryArgTerminates() {
    Compiled c("{\"trigger\":\"debug\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    ParsedRequest r("GET /x?a=1&debug HTTP/1.1\r\nHost: a\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QVERIFY(ctx.exited());
  }

  void echoReturnsKongShapedRequest() {
    Compiled c("{\"echo\":true,\"status_code\":404}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QVERIFY(c.instance->needsRequestBody());
    ParsedRequest r(
        "POST /echo/me?a=1&a=2&flag&sp=x+y%21 HTTP/1.1\r\nHost: Example.COM:8000\r\n"
        "X-Multi: one\r\nX-Multi: two\r\nContent-Type: application/json\r\n"
        "Content-Length: 7\r\n\r\n");
    core::Route route;
    route.id = "r-1";
    route.name = "echo-route";
    route.paths = {"/echo"};
    core::Service service;
    service.id = "s-1";
    service.host = "upstream.test";
    plugins::Context ctx;
    r.bind(ctx);
    ctx.route = &route;
    ctx.service = &service;
    ctx.setBody("{\"k\":1}");
    c.instance->access(ctx);
    QVERIFY(ctx.exited());
    QCOMPARE(ctx.exitStatus(), 404);
    auto doc = json::parse(std::string(ctx.exitBody())).as_object();
    QCOMPARE(std::string(doc.at("message").as_string()), std::string("Not found"));
    const auto& req = doc.at("request").as_object();
    QCOMPARE(std::string(req.at("host").as_string()), std::string("example.com"));
    QCOMPARE(req.at("port").to_number<int>(), 8000);
    QCOMPARE(std::string(req.at("method").as_string()), std::string("POST"));
    QCOMPARE(std::string(req.at("path").as_string()), std::string("/echo/me"));
    QCOMPARE(std::string(req.at("scheme").as_string()), std::string("http"));
    const auto& headers = req.at("headers").as_object();
    QCOMPARE(headers.at("x-multi").as_array().size(), std::size_t(2));
    QCOMPARE(std::string(headers.at("content-type").as_string()), std::string("application/json"));
    const auto& query = req.at("query").as_object();
    QCOMPARE(query.at("a").as_array().size(), std::size_t(2));
    QCOMPARE(query.at("flag").as_bool(), true);
    QCOMPARE(std::string(query.at("sp").as_string()), std::string("x y!"));
    QCOMPARE(req.at("body").as_object().at("k").to_number<int>(), 1);
    QCOMPARE(std::string(req.at("raw_body").as_string()), std::string("{\"k\":1}"));
    QCOMPARE(std::string(doc.at("matched_route").at("id").as_string()), std::string("r-1"));
    QCOMPARE(std::string(doc.at("matched_service").at("host").as_string()),
             std::string("upstream.test"));
    QVERIFY(doc.at("kong").as_object().contains("worker_pid"));
  }
};

QTEST_GUILESS_MAIN(RequestTerminationTest)
#include "request_termination_test.moc"
