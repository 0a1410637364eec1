// opentelemetry: Kong's schema and defaults, and the plugin's phases on a real request: the
// log phase hands the recorder's spans to the exporter, which POSTs OTLP protobuf to a real
// collector in this test, decoded here with the generated classes.
#include <QtTest>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/head_parser.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "plugins/opentelemetry/opentelemetry.h"
#include "test_collector.h"
#include "trace/recorder.h"
#include "trace/span_names.h"

using namespace archway;
namespace json = boost::json;
namespace pb = opentelemetry::proto;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct Request {
  std::string bytes;
  http::RequestHead head;
  plugins::Context ctx;
  core::Route route;
  core::Service service;

  explicit Request(std::string text) : bytes(std::move(text)) {
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
    ctx.host = "api.test";
    ctx.clientIp = "127.0.0.9";
    route.id = "route-id-1";
    route.name = "orders";
    service.id = "svc-id";
    service.name = "orders-svc";
    ctx.route = &route;
    ctx.service = &service;
    ctx.enter(0);
  }
};

std::string get(std::string_view traceparent = {}) {
  std::string r = "GET /orders/7 HTTP/1.1\r\nHost: api.test\r\nX-B3-TraceId: abc\r\n";
  if (!traceparent.empty()) r += "traceparent: " + std::string(traceparent) + "\r\n";
  return r + "\r\n";
}

std::string attr(const google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>& attrs,
                 const std::string& key) {
  for (const auto& kv : attrs) {
    if (kv.key() != key) continue;
    if (kv.value().has_string_value()) return kv.value().string_value();
    if (kv.value().has_int_value()) return std::to_string(kv.value().int_value());
  }
  return "<none>";
}

class Fixture {
 public:
  explicit Fixture(json::object config) : factory_(plugins::makeOpentelemetryPlugin()) {
    auto v = plugins::schema::validate(factory_->schema(), config);
    if (!v.ok()) qFatal("config invalid: %s", v.errorText().c_str());
    plugins::CompileEnv env(coreConfig_, persistent_);
    entity_.name = "opentelemetry";
    auto inst = factory_->compile(entity_, *v, env);
    if (!inst.ok()) qFatal("compile failed: %s", inst.errorText().c_str());
    instance_ = *inst;
  }
  const plugins::Instance& instance() const { return *instance_; }
  // Runs a request through the phases the plugin has, the way the proxy would.
  void run(Request& r, trace::TraceRecorder& rec, int status) {
    auto t0 = Clock::now();
    r.ctx.trace = &rec;
    r.ctx.traceId = rec.traceIdHex();
    rec.add(trace::names::kReadHeaders, t0, t0 + 20us);
    rec.add(trace::names::kRoute, t0 + 20us, t0 + 25us);
    if (instance_->phases() & plugins::Instance::kAccess) instance_->access(r.ctx);
    rec.addUs(trace::pluginSpanName("opentelemetry", "access"), 25, 2);
    r.ctx.status = status;
    r.ctx.upstreamStatus = status;
    r.ctx.totalUs = 900;
    if (instance_->phases() & plugins::Instance::kHeaderFilter) instance_->headerFilter(r.ctx);
    if (instance_->phases() & plugins::Instance::kLog) instance_->log(r.ctx);
  }

 private:
  std::unique_ptr<plugins::Factory> factory_;
  core::Config coreConfig_;
  plugins::Persistent persistent_;  // outlives the instance: its registry flushes and joins
  core::Plugin entity_;
  std::shared_ptr<const plugins::Instance> instance_;
};

}  // namespace

class OpentelemetryTest : public QObject {
  Q_OBJECT
 private slots:
  void hasKongsNameAndPriority() {
    auto f = plugins::makeOpentelemetryPlugin();
    QCOMPARE(std::string(f->name()), std::string("opentelemetry"));
    QCOMPARE(f->priority(), 14);
  }

  void fillsKongsDefaults() {
    auto f = plugins::makeOpentelemetryPlugin();
    auto v = plugins::schema::validate(
        f->schema(), json::object{{"traces_endpoint", "http://collector:4318/v1/traces"}});
    QVERIFY2(v.ok(), v.errorText().c_str());
    const auto& c = *v;
    QCOMPARE(c.at("connect_timeout").as_int64(), 1000);
    QCOMPARE(c.at("send_timeout").as_int64(), 5000);
    QCOMPARE(c.at("read_timeout").as_int64(), 5000);
    QCOMPARE(c.at("queue").at("max_batch_size").as_int64(), 200);
    QCOMPARE(c.at("queue").at("max_coalescing_delay").to_number<double>(), 1.0);
    QCOMPARE(c.at("queue").at("max_entries").as_int64(), 10000);
    QCOMPARE(c.at("queue").at("initial_retry_delay").to_number<double>(), 0.01);
    QCOMPARE(json::value_to<std::string>(c.at("propagation").at("default_format")),
             std::string("w3c"));
    QCOMPARE(json::value_to<std::string>(c.at("header_type")), std::string("preserve"));
    QVERIFY(c.at("sampling_rate").is_null());
    QVERIFY(c.at("http_response_header_for_traceid").is_null());
    QVERIFY(c.at("headers").is_null());
  }

  void rejectsBadConfig_data() {
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message");
    QTest::newRow("no endpoint") << "{}"
                                 << "config"
                                 << "at least one of these fields must be non-empty: "
                                    "'traces_endpoint', 'logs_endpoint'";
    QTest::newRow("no scheme") << "{\"traces_endpoint\":\"collector/v1\"}"
                               << "config.traces_endpoint"
                               << "missing scheme in url";
    QTest::newRow("no host") << "{\"traces_endpoint\":\"http:///v1\"}"
                             << "config.traces_endpoint"
                             << "missing host in url";
    QTest::newRow("rate above 1") << "{\"traces_endpoint\":\"http://c/v1\",\"sampling_rate\":1.5}"
                                  << "config.sampling_rate"
                                  << "value should be between 0 and 1";
    QTest::newRow("batch size 0")
        << "{\"traces_endpoint\":\"http://c/v1\",\"queue\":{\"max_batch_size\":0}}"
        << "config.queue.max_batch_size"
        << "value should be between 1 and 1000000";
    QTest::newRow("empty resource attribute")
        << "{\"traces_endpoint\":\"http://c/v1\",\"resource_attributes\":{\"a\":\"\"}}"
        << "config.resource_attributes.a"
        << "required field missing";
    QTest::newRow("bad header name")
        << "{\"traces_endpoint\":\"http://c/v1\",\"headers\":{\"bad name\":\"v\"}}"
        << "config.headers"
        << "bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
    QTest::newRow("unknown format")
        << "{\"traces_endpoint\":\"http://c/v1\",\"propagation\":{\"default_format\":\"x\"}}"
        << "config.propagation.default_format"
        << "expected one of: b3, b3-single, w3c, jaeger, ot, datadog, aws, gcp, instana";
    QTest::newRow("negative timeout")
        << "{\"traces_endpoint\":\"http://c/v1\",\"connect_timeout\":-1}"
        << "config.connect_timeout"
        << "value should be between 0 and 2147483646";
  }
  void rejectsBadConfig() {
    QFETCH(QString, config);
    QFETCH(QString, path);
    QFETCH(QString, message);
    auto f = plugins::makeOpentelemetryPlugin();
    auto v = plugins::schema::validate(f->schema(), json::parse(config.toStdString()));
    QVERIFY(!v.ok());
    bool found = false;
    for (const auto& e : v.errors()) {
      found = found || (e.path == path.toStdString() && e.message == message.toStdString());
    }
    QVERIFY2(found, v.errorText().c_str());
  }

  void acceptsKongsDeprecatedEndpointAndOtherFormats() {
    auto f = plugins::makeOpentelemetryPlugin();
    auto v = plugins::schema::validate(
        f->schema(),
        json::parse("{\"endpoint\":\"http://c:4318/v1/traces\",\"header_type\":\"b3\","
                    "\"propagation\":{\"extract\":[\"b3\",\"w3c\"],\"inject\":[\"preserve\"]}}"));
    QVERIFY2(v.ok(), v.errorText().c_str());
  }

  void refusesHttpsEndpointsAtCompile() {
    auto f = plugins::makeOpentelemetryPlugin();
    auto v = plugins::schema::validate(
        f->schema(), json::object{{"traces_endpoint", "https://collector/v1/traces"}});
    QVERIFY(v.ok());
    core::Config config;
    plugins::Persistent persistent;
    plugins::CompileEnv env(config, persistent);
    auto inst = f->compile(core::Plugin{}, *v, env);
    QVERIFY(!inst.ok());
    QCOMPARE(inst.errors()[0].path, std::string("config.traces_endpoint"));
  }

  void exportsTheRequestsSpansToTheCollector() {
    TestCollector collector;
    trace::Sampler sampler;  // defaults: rate 0.01, errors kept
    Fixture fx(json::object{
        {"traces_endpoint", collector.url()},
        {"headers", json::object{{"Authorization", "Bearer secret"}}},
        {"resource_attributes", json::object{{"service.name", "edge"}, {"team", "payments"}}},
        {"queue", json::object{{"max_coalescing_delay", 0}}},
    });
    Request r(get(kTraceparent));
    trace::TraceRecorder rec;
    rec.start(Clock::now(), r.ctx.header("traceparent"), sampler);
    fx.run(r, rec, 200);  // sampled by the client's flag

    QVERIFY(collector.waitFor(1));
    auto req = collector.requests()[0];
    QCOMPARE(req.method, std::string("POST"));
    QCOMPARE(req.target, std::string("/v1/traces"));
    QCOMPARE(req.headers["content-type"], std::string("application/x-protobuf"));
    QCOMPARE(req.headers["authorization"], std::string("Bearer secret"));
    pb::collector::trace::v1::ExportTraceServiceRequest body;
    QVERIFY(body.ParseFromString(req.body));
    const auto& rs = body.resource_spans(0);
    QCOMPARE(attr(rs.resource().attributes(), "service.name"), std::string("edge"));
    QCOMPARE(attr(rs.resource().attributes(), "team"), std::string("payments"));
    QVERIFY(attr(rs.resource().attributes(), "service.version") != "<none>");
    const auto& spans = rs.scope_spans(0).spans();
    QCOMPARE(spans.size(), 4);
    const std::string traceId =
        std::string(reinterpret_cast<const char*>(rec.traceId().data()), rec.traceId().size());
    QCOMPARE(spans[0].name(), std::string("kong"));
    for (const auto& s : spans) QCOMPARE(s.trace_id(), traceId);
    QCOMPARE(rec.traceIdHex(), std::string_view("4bf92f3577b34da6a3ce929d0e0e4736"));
    QCOMPARE(spans[0].parent_span_id(), std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
    QCOMPARE(attr(spans[0].attributes(), "http.method"), std::string("GET"));
    QCOMPARE(attr(spans[0].attributes(), "http.target"), std::string("/orders/7"));
    QCOMPARE(attr(spans[0].attributes(), "http.status_code"), std::string("200"));
    QCOMPARE(attr(spans[0].attributes(), "kong.route.name"), std::string("orders"));
    QCOMPARE(attr(spans[0].attributes(), "kong.service.name"), std::string("orders-svc"));
    QCOMPARE(attr(spans[0].attributes(), "net.peer.ip"), std::string("127.0.0.9"));
    QCOMPARE(spans[0].end_time_unix_nano() - spans[0].start_time_unix_nano(),
             std::uint64_t{900'000});
    QCOMPARE(spans[1].name(), std::string("read headers"));
    QCOMPARE(spans[2].name(), std::string("route"));
    QCOMPARE(spans[3].name(), std::string("plugin opentelemetry access"));
    QCOMPARE(spans[2].parent_span_id(), spans[0].span_id());
  }

  void samplingRateZeroExportsNothingUnlessTheClientSampled() {
    TestCollector collector;
    trace::Sampler sampler;
    Fixture fx(json::object{{"traces_endpoint", collector.url()},
                            {"sampling_rate", 0},
                            {"queue", json::object{{"max_coalescing_delay", 0}}}});
    for (int i = 0; i < 20; ++i) {
      Request r(get());
      trace::TraceRecorder rec;
      rec.start(Clock::now(), "", sampler);
      fx.run(r, rec, 500);  // Kong's rule: the rate alone, even for errors
    }
    Request sampled(get(kTraceparent));
    trace::TraceRecorder rec;
    rec.start(Clock::now(), sampled.ctx.header("traceparent"), sampler);
    fx.run(sampled, rec, 200);
    QVERIFY(collector.waitFor(1));
    std::this_thread::sleep_for(100ms);
    QCOMPARE(collector.requests().size(), std::size_t{1});
  }

  void samplingRateOneExportsEverything() {
    TestCollector collector;
    trace::Sampler sampler(trace::SamplingPolicy{.rate = 0});
    Fixture fx(json::object{{"traces_endpoint", collector.url()},
                            {"sampling_rate", 1},
                            {"queue", json::object{{"max_batch_size", 1}}}});
    for (int i = 0; i < 5; ++i) {
      Request r(get());
      trace::TraceRecorder rec;
      rec.start(Clock::now(), "", sampler);
      fx.run(r, rec, 200);
    }
    QVERIFY(collector.waitFor(5));
  }

  void withoutSamplingRateTheNodeSamplerKeepsErrors() {
    TestCollector collector;
    trace::SamplingPolicy p;
    p.rate = 0;
    p.slowMs = 0;
    trace::Sampler sampler(p);
    Fixture fx(json::object{{"traces_endpoint", collector.url()},
                            {"queue", json::object{{"max_batch_size", 1}}}});
    Request ok(get());
    trace::TraceRecorder rec;
    rec.start(Clock::now(), "", sampler);
    fx.run(ok, rec, 200);
    Request failed(get());
    rec.start(Clock::now(), "", sampler);
    fx.run(failed, rec, 503);
    QVERIFY(collector.waitFor(1));
    std::this_thread::sleep_for(100ms);
    auto reqs = collector.requests();
    QCOMPARE(reqs.size(), std::size_t{1});
    pb::collector::trace::v1::ExportTraceServiceRequest body;
    QVERIFY(body.ParseFromString(reqs[0].body));
    const auto& root = body.resource_spans(0).scope_spans(0).spans(0);
    QCOMPARE(attr(root.attributes(), "http.status_code"), std::string("503"));
    QCOMPARE(root.status().code(), pb::trace::v1::Status::STATUS_CODE_ERROR);
  }

  void addsTheTraceIdResponseHeader() {
    Fixture fx(json::object{{"traces_endpoint", "http://127.0.0.1:9/v1/traces"},
                            {"http_response_header_for_traceid", "X-Trace-Id"},
                            {"sampling_rate", 0}});
    QVERIFY(fx.instance().phases() & plugins::Instance::kHeaderFilter);
    trace::Sampler sampler;
    Request r(get(kTraceparent));
    trace::TraceRecorder rec;
    rec.start(Clock::now(), r.ctx.header("traceparent"), sampler);
    r.ctx.traceId = rec.traceIdHex();
    fx.instance().headerFilter(r.ctx);
    QCOMPARE(r.ctx.responseEdits.size(), std::size_t{1});
    QCOMPARE(r.ctx.responseEdits[0].name, std::string("X-Trace-Id"));
    QCOMPARE(r.ctx.responseEdits[0].value, std::string("4bf92f3577b34da6a3ce929d0e0e4736"));
    QVERIFY(r.ctx.responseEdits[0].op == plugins::HeaderEdit::Op::add);
  }

  void clearsConfiguredPropagationHeaders() {
    Fixture fx(json::object{{"traces_endpoint", "http://127.0.0.1:9/v1/traces"},
                            {"sampling_rate", 0},
                            {"propagation", json::object{{"clear", json::array{"X-B3-TraceId"}}}}});
    QVERIFY(fx.instance().phases() & plugins::Instance::kAccess);
    Request r(get());
    fx.instance().access(r.ctx);
    QCOMPARE(r.ctx.requestEdits.size(), std::size_t{1});
    QVERIFY(r.ctx.requestEdits[0].op == plugins::HeaderEdit::Op::remove);
    QCOMPARE(r.ctx.requestEdits[0].name, std::string("X-B3-TraceId"));
  }

  void logWithoutARecorderDoesNothing() {
    Fixture fx(json::object{{"traces_endpoint", "http://127.0.0.1:9/v1/traces"}});
    Request r(get());
    r.ctx.status = 500;
    fx.instance().log(r.ctx);  // tracing off in the proxy: ctx.trace is null
  }
};

QTEST_GUILESS_MAIN(OpentelemetryTest)
#include "opentelemetry_test.moc"
