#include "trace/trace_json.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace archway::trace {
namespace json = boost::json;

namespace {
json::value stringOrNull(std::string_view s) {
  if (s.empty()) return nullptr;
  return json::string(s);
}
}  // namespace

json::object toJson(const FinishedTrace& t) {
  json::object o;
  o["id"] = toHex(t.traceId);
  o["route"] = stringOrNull(t.route());
  o["service"] = stringOrNull(t.serviceName.view());
  o["method"] = t.method.view();
  o["path"] = t.path.view();
  o["status"] = t.status;
  o["upstream_status"] = t.upstreamStatus ? json::value(t.upstreamStatus) : json::value(nullptr);
  o["duration_ms"] = static_cast<double>(t.durationUs) / 1000.0;
  o["started_at"] = t.startUnixNs / 1000000;
  o["parent_span_id"] = t.parentSpanId ? json::value(spanIdHex(t.parentSpanId)) : nullptr;
  json::array spans;
  spans.reserve(t.spanCount);
  for (std::size_t i = 0; i < t.spanCount; ++i) {
    const SpanRecord& s = t.spans[i];
    spans.push_back(
        json::object{{"name", s.name}, {"start_us", s.startUs}, {"duration_us", s.durationUs}});
  }
  o["spans"] = std::move(spans);
  o["dropped_spans"] = t.droppedSpans;
  return o;
}

std::string renderTraces(const std::vector<FinishedTrace>& traces) {
  json::array data;
  data.reserve(traces.size());
  for (const auto& t : traces) data.push_back(toJson(t));
  return json::serialize(json::object{{"data", std::move(data)}});
}

std::string renderTrace(const FinishedTrace& trace) {
  return json::serialize(toJson(trace));
}

boost::json::object toJson(const SamplingPolicy& p) {
  return boost::json::object{{"enabled", p.enabled},
                             {"sample_rate", p.rate},
                             {"slow_ms", p.slowMs},
                             {"errors", p.keepServerErrors},
                             {"client_errors", p.keepClientErrors},
                             {"respect_parent", p.respectParentSampled}};
}

}  // namespace archway::trace
