#include <QtTest>

#include <memory>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "trace/otlp.h"
#include "trace/span_names.h"

using namespace archway::trace;
namespace pb = opentelemetry::proto;

namespace {
std::string bytesOf(SpanId id) {
  std::string b(8, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8) b[static_cast<std::size_t>(i)] = static_cast<char>(id);
  return b;
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

std::unique_ptr<FinishedTrace> sample() {
  auto t = std::make_unique<FinishedTrace>();
  t->traceId = *parseTraceIdHex("4bf92f3577b34da6a3ce929d0e0e4736");
  t->rootSpanId = 0x1111222233334444ull;
  t->parentSpanId = 0x00f067aa0ba902b7ull;
  t->flags = 1;
  t->startUnixNs = 1'700'000'000'000'000'000;
  t->durationUs = 2500;
  t->status = 502;
  t->upstreamStatus = 502;
  t->method.assign("POST");
  t->host.assign("api.example.com");
  t->path.assign("/orders");
  t->clientIp.assign("10.0.0.7");
  t->routeId.assign("r-id");
  t->routeName.assign("orders");
  t->serviceName.assign("orders-svc");
  t->spanCount = 3;
  t->spans[0] = SpanRecord{names::kReadHeaders, 0, 10, 0};
  t->spans[1] = SpanRecord{pluginSpanName("key-auth", "access"), 10, 40, 0};
  t->spans[2] = SpanRecord{names::kUpstreamFirstByte, 100, 2000, 0x5555666677778888ull};
  return t;
}
}  // namespace

class OtlpTest : public QObject {
  Q_OBJECT
 private slots:
  void encodesAndDecodesWithTheGeneratedClasses() {
    auto t = sample();
    const FinishedTrace* traces[] = {t.get()};
    Attributes resource =
        resourceAttributes("node-1", "0.1.0", {{"deployment.environment", "test"}});
    std::string body = encodeExportRequest(traces, resource, "0.1.0");

    pb::collector::trace::v1::ExportTraceServiceRequest req;
    QVERIFY(req.ParseFromString(body));
    QCOMPARE(req.resource_spans_size(), 1);
    const auto& rs = req.resource_spans(0);
    QCOMPARE(attr(rs.resource().attributes(), "service.name"), std::string("kong"));
    QCOMPARE(attr(rs.resource().attributes(), "service.instance.id"), std::string("node-1"));
    QCOMPARE(attr(rs.resource().attributes(), "deployment.environment"), std::string("test"));
    QCOMPARE(rs.scope_spans_size(), 1);
    QCOMPARE(rs.scope_spans(0).scope().name(), std::string("kong-internal"));
    const auto& spans = rs.scope_spans(0).spans();
    QCOMPARE(spans.size(), 4);

    const auto& root = spans[0];
    const std::string traceId(reinterpret_cast<const char*>(t->traceId.data()), 16);
    QCOMPARE(root.name(), std::string("kong"));
    QCOMPARE(root.trace_id(), traceId);
    QCOMPARE(root.span_id(), bytesOf(t->rootSpanId));
    QCOMPARE(root.parent_span_id(), bytesOf(t->parentSpanId));
    QCOMPARE(root.kind(), pb::trace::v1::Span::SPAN_KIND_SERVER);
    QCOMPARE(root.start_time_unix_nano(), std::uint64_t{1'700'000'000'000'000'000});
    QCOMPARE(root.end_time_unix_nano(), std::uint64_t{1'700'000'000'002'500'000});
    QCOMPARE(root.status().code(), pb::trace::v1::Status::STATUS_CODE_ERROR);
    QCOMPARE(root.flags() & 0xffu, 1u);
    QCOMPARE(attr(root.attributes(), "http.method"), std::string("POST"));
    QCOMPARE(attr(root.attributes(), "http.status_code"), std::string("502"));
    QCOMPARE(attr(root.attributes(), "http.host"), std::string("api.example.com"));
    QCOMPARE(attr(root.attributes(), "http.target"), std::string("/orders"));
    QCOMPARE(attr(root.attributes(), "net.peer.ip"), std::string("10.0.0.7"));
    QCOMPARE(attr(root.attributes(), "kong.route.name"), std::string("orders"));
    QCOMPARE(attr(root.attributes(), "kong.service.name"), std::string("orders-svc"));

    QCOMPARE(spans[1].name(), std::string("read headers"));
    QCOMPARE(spans[2].name(), std::string("plugin key-auth access"));
    QCOMPARE(spans[3].name(), std::string("upstream first byte"));
    for (int i = 1; i < 4; ++i) {
      QCOMPARE(spans[i].trace_id(), traceId);
      QCOMPARE(spans[i].parent_span_id(), bytesOf(t->rootSpanId));
      QCOMPARE(spans[i].span_id().size(), std::size_t{8});
    }
    QCOMPARE(spans[2].start_time_unix_nano(), std::uint64_t{1'700'000'000'000'010'000});
    QCOMPARE(spans[2].end_time_unix_nano(), std::uint64_t{1'700'000'000'000'050'000});
    QCOMPARE(spans[2].kind(), pb::trace::v1::Span::SPAN_KIND_INTERNAL);
    // The span whose id went upstream keeps it, so the upstream's spans hang under it.
    QCOMPARE(spans[3].span_id(), bytesOf(0x5555666677778888ull));
    QCOMPARE(spans[3].kind(), pb::trace::v1::Span::SPAN_KIND_CLIENT);
    QVERIFY(spans[1].span_id() != spans[2].span_id());
  }

  void rootWithoutParentHasNoParentId() {
    auto t = sample();
    t->parentSpanId = 0;
    t->status = 200;
    const FinishedTrace* traces[] = {t.get()};
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    QVERIFY(req.ParseFromString(encodeExportRequest(traces, {}, "x")));
    const auto& root = req.resource_spans(0).scope_spans(0).spans(0);
    QVERIFY(root.parent_span_id().empty());
    QCOMPARE(root.status().code(), pb::trace::v1::Status::STATUS_CODE_UNSET);
  }

  void batchesSeveralTraces() {
    auto a = sample();
    auto b = sample();
    b->traceId[0] = 0x01;
    b->spanCount = 1;
    const FinishedTrace* traces[] = {a.get(), b.get()};
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    QVERIFY(req.ParseFromString(encodeExportRequest(traces, {}, "x")));
    QCOMPARE(req.resource_spans(0).scope_spans(0).spans_size(),
             int(otlpSpanCount(*a) + otlpSpanCount(*b)));
  }

  void resourceOverridesReplaceDefaults() {
    auto r = resourceAttributes("n", "1.2.3", {{"service.name", "edge"}, {"team", "x"}});
    QCOMPARE(r.size(), std::size_t{4});
    QCOMPARE(r[0].second, std::string("edge"));
    QCOMPARE(r[2].second, std::string("1.2.3"));
    QCOMPARE(r[3].first, std::string("team"));
  }
};

QTEST_GUILESS_MAIN(OtlpTest)
#include "otlp_test.moc"
