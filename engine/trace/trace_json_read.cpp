#include "trace/trace_json_read.h"

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/json_read.h"
#include "trace/span_names.h"

namespace archway::trace {

namespace json = boost::json;

namespace {

using core::jsonNumber;
using core::jsonText;

template <class T>
T clampTo(double d) {
  if (!(d > 0)) return 0;
  if (d >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(d);
}

SpanId spanIdOf(std::string_view hex) {
  SpanId id = 0;
  if (hex.size() != 16) return 0;
  auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), id, 16);
  return ec == std::errc() && end == hex.data() + hex.size() ? id : 0;
}

}  // namespace

core::Result<std::vector<FinishedTrace>> parseTraces(std::string_view body) {
  json::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::value* data = !ec && doc.is_object() ? doc.get_object().if_contains("data") : nullptr;
  if (!data || !data->is_array()) return core::Error{"", "traces: expected {\"data\": [...]}"};
  std::vector<FinishedTrace> out;
  out.reserve(data->get_array().size());
  for (const auto& item : data->get_array()) {
    if (!item.is_object()) continue;
    const json::object& o = item.get_object();
    auto id = parseTraceIdHex(jsonText(o, "id"));
    if (!id) continue;
    FinishedTrace& t = out.emplace_back();
    t.traceId = *id;
    t.routeName.assign(jsonText(o, "route"));
    t.serviceName.assign(jsonText(o, "service"));
    t.method.assign(jsonText(o, "method"));
    t.path.assign(jsonText(o, "path"));
    t.status = clampTo<std::uint16_t>(jsonNumber(o, "status"));
    t.upstreamStatus = clampTo<std::uint16_t>(jsonNumber(o, "upstream_status"));
    t.durationUs = clampTo<std::uint64_t>(std::llround(jsonNumber(o, "duration_ms") * 1000.0));
    t.startUnixNs = clampTo<std::int64_t>(jsonNumber(o, "started_at")) * 1000000;
    t.parentSpanId = spanIdOf(jsonText(o, "parent_span_id"));
    t.droppedSpans = clampTo<std::uint16_t>(jsonNumber(o, "dropped_spans"));
    const json::value* spans = o.if_contains("spans");
    if (!spans || !spans->is_array()) continue;
    for (const auto& s : spans->get_array()) {
      if (!s.is_object()) continue;
      if (t.spanCount == FinishedTrace::kMaxSpans) {
        ++t.droppedSpans;
        continue;
      }
      const json::object& so = s.get_object();
      SpanRecord& span = t.spans[t.spanCount++];
      span.name = intern(jsonText(so, "name"));
      span.startUs = clampTo<std::uint32_t>(jsonNumber(so, "start_us"));
      span.durationUs = clampTo<std::uint32_t>(jsonNumber(so, "duration_us"));
    }
  }
  return out;
}

std::optional<SamplingPolicy> parseSamplingPolicy(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  SamplingPolicy p;
  const auto* rate = o.if_contains("sample_rate");
  const auto* slow = o.if_contains("slow_ms");
  if (!rate || !rate->is_number() || !slow || !slow->is_number()) return std::nullopt;
  p.rate = rate->to_number<double>(ec);
  if (ec) return std::nullopt;
  p.slowMs = slow->to_number<std::uint32_t>(ec);
  if (ec) return std::nullopt;
  auto flag = [&](const char* key, bool& out) {
    if (const auto* b = o.if_contains(key); b && b->is_bool()) out = b->as_bool();
  };
  flag("enabled", p.enabled);
  flag("errors", p.keepServerErrors);
  flag("client_errors", p.keepClientErrors);
  flag("respect_parent", p.respectParentSampled);
  return p;
}

}  // namespace archway::trace
