#pragma once
// OTLP/HTTP encoding of finished traces: one ExportTraceServiceRequest (protobuf, from the
// .proto files in trace/proto compiled by protoc) with one ResourceSpans and one ScopeSpans.
// Per trace: the root span "kong" (kind SERVER, the whole request, child of the client's span
// when it sent a traceparent) with HTTP attributes and status ERROR for 5xx, and under it one
// span per recorded phase (kind CLIENT for the spans whose id was propagated upstream, else
// INTERNAL). Shaped like Kong's opentelemetry plugin (kong/plugins/opentelemetry/otlp.lua):
// resource service.name=kong, service.version, service.instance.id, then the configured
// resource_attributes; scope "kong-internal".
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/finished_trace.h"

namespace archway::trace {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// Kong's default resource attributes, each replaced by an override of the same key; overrides
// with new keys are appended in their order.
Attributes resourceAttributes(std::string_view instanceId, std::string_view version,
                              const Attributes& overrides);

inline constexpr std::string_view kScopeName = "kong-internal";

// The serialized ExportTraceServiceRequest (application/x-protobuf body).
std::string encodeExportRequest(std::span<const FinishedTrace* const> traces,
                                const Attributes& resource, std::string_view scopeVersion);

// Spans one trace becomes (the root plus one per recorded span).
inline std::size_t otlpSpanCount(const FinishedTrace& t) {
  return 1 + t.spanCount;
}

}  // namespace archway::trace
