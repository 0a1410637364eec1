#include "trace/otlp.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "trace/span_names.h"

namespace archway::trace {
namespace {

namespace pb = opentelemetry::proto;
using pb::trace::v1::Span;

// Span.flags: bits 0-7 the W3C trace flags, bit 8 "is_remote is known", bit 9 "the parent is
// remote" (trace.proto SpanFlags).
constexpr std::uint32_t kHasIsRemote = 0x100;
constexpr std::uint32_t kIsRemote = 0x200;

std::string spanIdBytes(SpanId id) {
  std::string b(8, '\0');
  for (int i = 7; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return b;
}

void addString(google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* attrs,
               std::string_view key, std::string_view value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

void addInt(google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* attrs,
            std::string_view key, std::int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_int_value(value);
}

void addTrace(const FinishedTrace& t, pb::trace::v1::ScopeSpans& scope) {
  const std::string traceId(reinterpret_cast<const char*>(t.traceId.data()), t.traceId.size());
  const std::string rootId = spanIdBytes(t.rootSpanId);
  const auto start = static_cast<std::uint64_t>(t.startUnixNs);

  Span* root = scope.add_spans();
  root->set_trace_id(traceId);
  root->set_span_id(rootId);
  if (t.parentSpanId) {
    root->set_parent_span_id(spanIdBytes(t.parentSpanId));
    root->set_flags(t.flags | kHasIsRemote | kIsRemote);
  } else {
    root->set_flags(t.flags | kHasIsRemote);
  }
  root->set_name(std::string(names::kRoot));
  root->set_kind(Span::SPAN_KIND_SERVER);
  root->set_start_time_unix_nano(start);
  root->set_end_time_unix_nano(start + t.durationUs * 1000);
  auto* attrs = root->mutable_attributes();
  addString(attrs, "http.method", t.method.view());
  addString(attrs, "http.scheme", t.scheme.view());
  if (!t.host.empty()) addString(attrs, "http.host", t.host.view());
  addString(attrs, "http.target", t.path.view());
  addInt(attrs, "http.status_code", t.status);
  if (!t.clientIp.empty()) addString(attrs, "net.peer.ip", t.clientIp.view());
  if (!t.routeId.empty()) addString(attrs, "kong.route.id", t.routeId.view());
  if (!t.routeName.empty()) addString(attrs, "kong.route.name", t.routeName.view());
  if (!t.serviceName.empty()) addString(attrs, "kong.service.name", t.serviceName.view());
  if (t.upstreamStatus) addInt(attrs, "http.upstream.status_code", t.upstreamStatus);
  if (t.status >= 500) root->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
  if (t.droppedSpans) addInt(attrs, "archway.dropped_spans", t.droppedSpans);

  for (std::size_t i = 0; i < t.spanCount; ++i) {
    const SpanRecord& r = t.spans[i];
    Span* s = scope.add_spans();
    s->set_trace_id(traceId);
    s->set_span_id(spanIdBytes(t.spanIdAt(i)));
    s->set_parent_span_id(rootId);
    s->set_flags(t.flags | kHasIsRemote);
    s->set_name(std::string(r.name));
    s->set_kind(r.spanId ? Span::SPAN_KIND_CLIENT : Span::SPAN_KIND_INTERNAL);
    const std::uint64_t b = start + std::uint64_t{r.startUs} * 1000;
    s->set_start_time_unix_nano(b);
    s->set_end_time_unix_nano(b + std::uint64_t{r.durationUs} * 1000);
  }
}

}  // namespace

Attributes resourceAttributes(std::string_view instanceId, std::string_view version,
                              const Attributes& overrides) {
  Attributes out{{"service.name", "kong"},
                 {"service.instance.id", std::string(instanceId)},
                 {"service.version", std::string(version)}};
  for (const auto& [k, v] : overrides) {
    bool replaced = false;
    for (auto& [ok, ov] : out) {
      if (ok == k) {
        ov = v;
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(k, v);
  }
  return out;
}

std::string encodeExportRequest(std::span<const FinishedTrace* const> traces,
                                const Attributes& resource, std::string_view scopeVersion) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* rattrs = rs->mutable_resource()->mutable_attributes();
  for (const auto& [k, v] : resource) addString(rattrs, k, v);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(std::string(kScopeName));
  ss->mutable_scope()->set_version(std::string(scopeVersion));
  for (const FinishedTrace* t : traces) addTrace(*t, *ss);
  return req.SerializeAsString();
}

}  // namespace archway::trace
