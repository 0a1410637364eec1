// request-size-limiting: Content-Length checked without the body, units, 413/417/411, chunked
// bodies measured once read.
#include <QtTest>
#include <boost/json.hpp>
#include <string>

#include "http/head_parser.h"
#include "plugins/plugin.h"
#include "plugins/request_size_limiting/request_size_limiting.h"

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
    ctx.contentLength = head.contentLength;
    ctx.chunked = head.chunked;
    ctx.expectContinue = head.expectContinue;
  }
};

struct Compiled {
  std::unique_ptr<plugins::Factory> factory = plugins::makeRequestSizeLimitingPlugin();
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
    entity.id = "33333333-3333-3333-3333-333333333333";
    entity.name = "request-size-limiting";
    plugins::CompileEnv env(config, persistent);
    auto inst = factory->compile(entity, *valid, env);
    if (!inst) {
      error = QString::fromStdString(inst.errorText());
      return;
    }
    instance = *inst;
  }

  // Runs access on a request head (and optionally a read body); 0 when let through.
  int run(const std::string& head, const std::string* body = nullptr,
          std::string* message = nullptr) const {
    ParsedRequest r(head);
    plugins::Context ctx;
    r.bind(ctx);
    if (body) ctx.setBody(*body);
    instance->access(ctx);
    if (message && ctx.exited())
      *message = std::string(json::parse(std::string(ctx.exitBody())).at("message").as_string());
    return ctx.exited() ? ctx.exitStatus() : 0;
  }
};

std::string post(std::int64_t length, const std::string& extra = {}) {
  return "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(length) + "\r\n" +
         extra + "\r\n";
}

}  // namespace

class RequestSizeLimitingTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void schemaHasKongDefaults() {
    auto f = plugins::makeRequestSizeLimitingPlugin();
    QCOMPARE(f->priority(), 951);
    auto r = plugins::schema::validate(f->schema(), json::parse("{}"));
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(r->at("allowed_payload_size").as_int64(), std::int64_t(128));
    QCOMPARE(r->at("size_unit").as_string(), json::string("megabytes"));
    QCOMPARE(r->at("require_content_length").as_bool(), false);
    auto bad = plugins::schema::validate(f->schema(), json::parse("{\"size_unit\":\"gigabytes\"}"));
    QCOMPARE(bad.errors()[0].text(),
             std::string("config.size_unit: expected one of: megabytes, kilobytes, bytes"));
  }

  void megabyteIsTwoToTheTwenty() {
    Compiled c("{\"allowed_payload_size\":1}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QCOMPARE(c.run(post(1048576)), 0);
    std::string message;
    QCOMPARE(c.run(post(1048577), nullptr, &message), 413);
    QCOMPARE(message, std::string("Request size limit exceeded"));
    QCOMPARE(c.run(post(2000000)), 413);
  }

  void unitsKilobytesAndBytes() {
    Compiled kb("{\"allowed_payload_size\":2,\"size_unit\":\"kilobytes\"}");
    QVERIFY2(kb.instance, qPrintable(kb.error));
    QCOMPARE(kb.run(post(2048)), 0);
    QCOMPARE(kb.run(post(2049)), 413);
    Compiled b("{\"allowed_payload_size\":10,\"size_unit\":\"bytes\"}");
    QVERIFY2(b.instance, qPrintable(b.error));
    QCOMPARE(b.run(post(10)), 0);
    QCOMPARE(b.run(post(11)), 413);
  }

  void expectContinueGets417() {
    Compiled c("{\"allowed_payload_size\":10,\"size_unit\":\"bytes\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    std::string message;
    QCOMPARE(c.run(post(11, "Expect: 100-Continue\r\n"), nullptr, &message), 417);
    QCOMPARE(message, std::string("Request size limit exceeded"));
    QCOMPARE(c.run(post(10, "Expect: 100-continue\r\n")), 0);
  }

  void requireContentLengthGives411() {
    Compiled c("{\"require_content_length\":true}");
    QVERIFY2(c.instance, qPrintable(c.error));
    std::string message;
    QCOMPARE(c.run("GET /x HTTP/1.1\r\nHost: a\r\n\r\n", nullptr, &message), 411);
    QCOMPARE(message, std::string("A valid Content-Length header is required"));
    QCOMPARE(c.run(post(0)), 0);
    // A chunked body is measured instead.
    std::string body(5, 'x');
    QCOMPARE(c.run("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &body), 0);
  }

  void noBodyPassesWithoutRequirement() {
    Compiled c("{}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QCOMPARE(c.run("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  }

  void chunkedBodyIsCappedForTheProxy() {
    Compiled c("{\"allowed_payload_size\":2,\"size_unit\":\"kilobytes\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    // Access runs before the body is read: nothing forces the proxy to buffer it.
    QVERIFY(!c.instance->needsRequestBody());
    ParsedRequest r("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    plugins::Context ctx;
    r.bind(ctx);
    c.instance->access(ctx);
    QVERIFY(!ctx.exited());
    QCOMPARE(ctx.requestBodyLimit, std::int64_t(2048));
    // A tighter limit another plugin set stays.
    plugins::Context tight;
    r.bind(tight);
    tight.requestBodyLimit = 100;
    c.instance->access(tight);
    QCOMPARE(tight.requestBodyLimit, std::int64_t(100));
    // A Content-Length request needs no cap.
    ParsedRequest cl(post(10));
    plugins::Context withLength;
    cl.bind(withLength);
    c.instance->access(withLength);
    QCOMPARE(withLength.requestBodyLimit, std::int64_t(-1));
    withLength.reset();
    QCOMPARE(withLength.requestBodyLimit, std::int64_t(-1));
  }

  void chunkedBodyMeasuredWhenRead() {
    Compiled c("{\"allowed_payload_size\":4,\"size_unit\":\"bytes\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    const std::string head = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string small = "abcd", big = "abcde";
    QCOMPARE(c.run(head, &small), 0);
    QCOMPARE(c.run(head, &big), 413);
  }
};

QTEST_GUILESS_MAIN(RequestSizeLimitingTest)
#include "request_size_limiting_test.moc"
