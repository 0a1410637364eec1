// correlation-id: Kong's defaults, the three generators, per-worker uuid#counter state,
// keeping a client's id, echo downstream.
#include <QtTest>
#include <boost/json.hpp>
#include <set>
#include <string>

#include "core/uuid.h"
#include "http/head_parser.h"
#include "plugins/correlation_id/correlation_id.h"
#include "plugins/plugin.h"

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
};

struct Compiled {
  std::unique_ptr<plugins::Factory> factory = plugins::makeCorrelationIdPlugin();
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
    entity.id = "44444444-4444-4444-4444-444444444444";
    entity.name = "correlation-id";
    plugins::CompileEnv env(config, persistent);
    auto inst = factory->compile(entity, *valid, env);
    if (!inst) {
      error = QString::fromStdString(inst.errorText());
      return;
    }
    instance = *inst;
  }
};

// The value of the last request-header edit named `name`, or "<none>".
std::string requestEdit(const plugins::Context& ctx, std::string_view name) {
  std::string v = "<none>";
  for (const auto& e : ctx.requestEdits)
    if (e.name == name) v = e.value;
  return v;
}

std::string responseEdit(const plugins::Context& ctx, std::string_view name) {
  std::string v = "<none>";
  for (const auto& e : ctx.responseEdits)
    if (e.name == name) v = e.value;
  return v;
}

// One request through access (and header_filter when the plugin has it); returns the id sent
// upstream ("<none>" when the client's was kept).
std::string runOnce(const plugins::Instance& inst, plugins::WorkerEnv* worker,
                    const std::string& extraHeaders = {}, plugins::Context* out = nullptr) {
  ParsedRequest r("GET / HTTP/1.1\r\nHost: a\r\n" + extraHeaders + "\r\n");
  plugins::Context local;
  plugins::Context& ctx = out ? *out : local;
  ctx.reset();
  ctx.bindRequest(&r.head, r.bytes.data());
  ctx.worker = worker;
  ctx.port = 8000;
  ctx.enter(0);
  inst.access(ctx);
  if (inst.phases() & plugins::Instance::kHeaderFilter) inst.headerFilter(ctx);
  return requestEdit(ctx, "Kong-Request-ID");
}

}  // namespace

class CorrelationIdTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void schemaHasKongDefaults() {
    auto f = plugins::makeCorrelationIdPlugin();
    QCOMPARE(f->priority(), 100001);
    QCOMPARE(f->name(), std::string_view("correlation-id"));
    auto r = plugins::schema::validate(f->schema(), json::parse("{}"));
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(r->at("header_name").as_string(), json::string("Kong-Request-ID"));
    QCOMPARE(r->at("generator").as_string(), json::string("uuid#counter"));
    QCOMPARE(r->at("echo_downstream").as_bool(), false);
    auto bad = plugins::schema::validate(f->schema(), json::parse("{\"generator\":\"ulid\"}"));
    QCOMPARE(bad.errors()[0].text(),
             std::string("config.generator: expected one of: uuid, uuid#counter, tracker"));
  }

  void uuidCounterIsPerWorkerUuidAndCounter() {
    Compiled c("{}");
    QVERIFY2(c.instance, qPrintable(c.error));
    plugins::WorkerEnv w1, w2;
    w2.index = 1;
    std::string a = runOnce(*c.instance, &w1), b = runOnce(*c.instance, &w1);
    std::string x = runOnce(*c.instance, &w2);
    auto hash = a.find('#');
    QVERIFY(hash != std::string::npos);
    QVERIFY(core::isUuid(a.substr(0, hash)));
    QCOMPARE(a.substr(hash), std::string("#1"));
    QCOMPARE(b, a.substr(0, hash) + "#2");
    QCOMPARE(x.substr(x.find('#')), std::string("#1"));
    QVERIFY(x.substr(0, x.find('#')) != a.substr(0, hash));
    // Another instance on the same worker shares the worker's uuid and counter, as in Kong.
    Compiled other("{}");
    QCOMPARE(runOnce(*other.instance, &w1), a.substr(0, hash) + "#3");
  }

  void uuidGeneratorGivesFreshUuids() {
    Compiled c("{\"generator\":\"uuid\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
      std::string id = runOnce(*c.instance, nullptr);
      QVERIFY(core::isUuid(id));
      seen.insert(id);
    }
    QCOMPARE(seen.size(), std::size_t(50));
  }

  void trackerHasKongShape() {
    Compiled c("{\"generator\":\"tracker\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    plugins::WorkerEnv w;
    std::string a = runOnce(*c.instance, &w), b = runOnce(*c.instance, &w);
    QVERIFY(a != b);
    QStringList parts = QString::fromStdString(a).split('-');
    QCOMPARE(parts.size(), 6);
    QCOMPARE(parts[1], QString("8000"));
    QVERIFY(parts[5].contains('.'));
    QCOMPARE(parts[5].section('.', 1).size(), 3);
  }

  void keepsClientIdAndReplacesEmptyOne() {
    Compiled c("{}");
    QVERIFY2(c.instance, qPrintable(c.error));
    plugins::WorkerEnv w;
    QCOMPARE(runOnce(*c.instance, &w, "kong-request-id: mine\r\n"), std::string("<none>"));
    std::string replaced = runOnce(*c.instance, &w, "Kong-Request-ID: \r\n");
    QVERIFY(replaced.find('#') != std::string::npos);
  }

  void customHeaderName() {
    Compiled c("{\"header_name\":\"X-Req-Id\",\"generator\":\"uuid\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    plugins::Context ctx;
    runOnce(*c.instance, nullptr, {}, &ctx);
    QVERIFY(core::isUuid(requestEdit(ctx, "X-Req-Id")));
  }

  void echoDownstreamReturnsTheSameId() {
    Compiled c("{\"echo_downstream\":true}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QVERIFY(c.instance->phases() & plugins::Instance::kHeaderFilter);
    plugins::WorkerEnv w;
    plugins::Context ctx;
    std::string up = runOnce(*c.instance, &w, {}, &ctx);
    QCOMPARE(responseEdit(ctx, "Kong-Request-ID"), up);
    // A client's id is echoed too.
    plugins::Context ctx2;
    runOnce(*c.instance, &w, "Kong-Request-ID: abc\r\n", &ctx2);
    QCOMPARE(responseEdit(ctx2, "Kong-Request-ID"), std::string("abc"));
    // Without echo the plugin never touches the response.
    Compiled quiet("{}");
    QVERIFY(!(quiet.instance->phases() & plugins::Instance::kHeaderFilter));
  }
};

QTEST_GUILESS_MAIN(CorrelationIdTest)
#include "correlation_id_test.moc"
