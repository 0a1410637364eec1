#include "metrics/stats_json.h"

#include <boost/json/parse.hpp>
#include <string>

#include "core/json_read.h"

namespace archway::metrics {

namespace json = boost::json;

namespace {

double number(const json::object& o, std::string_view key) {
  return core::jsonNumber(o, key);
}

std::uint64_t count(const json::object& o, std::string_view key) {
  const double d = number(o, key);
  return d > 0 ? static_cast<std::uint64_t>(d) : 0;
}

std::string text(const json::object& o, std::string_view key) {
  return std::string(core::jsonText(o, key));
}

const json::object& object(const json::object& o, std::string_view key) {
  return core::jsonObject(o, key);
}

LatencySummary latency(const json::object& o) {
  LatencySummary l;
  l.p50 = number(o, "p50");
  l.p90 = number(o, "p90");
  l.p95 = number(o, "p95");
  l.p99 = number(o, "p99");
  l.p999 = number(o, "p999");
  l.max = number(o, "max");
  l.mean = number(o, "mean");
  l.count = count(o, "count");
  return l;
}

EntityStats entity(const json::object& o) {
  EntityStats e;
  e.id = text(o, "id");
  e.name = text(o, "name");
  e.service = text(o, "service");
  e.upstream = text(o, "upstream");
  e.requests = count(o, "requests");
  e.rps = number(o, "rps");
  const json::object& status = object(o, "status");
  e.status1xx = count(status, "1xx");
  e.status2xx = count(status, "2xx");
  e.status3xx = count(status, "3xx");
  e.status4xx = count(status, "4xx");
  e.status5xx = count(status, "5xx");
  e.bytesIn = count(o, "bytes_in");
  e.bytesOut = count(o, "bytes_out");
  e.latency1s = latency(object(o, "latency_ms"));
  e.latency10s = latency(object(o, "latency_ms_10s"));
  e.latency60s = latency(object(o, "latency_ms_60s"));
  e.upstreamLatency1s = latency(object(o, "upstream_latency_ms"));
  e.upstreamLatency10s = latency(object(o, "upstream_latency_ms_10s"));
  e.upstreamLatency60s = latency(object(o, "upstream_latency_ms_60s"));
  e.gatewayLatency1s = latency(object(o, "gateway_latency_ms"));
  e.gatewayLatency10s = latency(object(o, "gateway_latency_ms_10s"));
  e.gatewayLatency60s = latency(object(o, "gateway_latency_ms_60s"));
  return e;
}

std::vector<EntityStats> entities(const json::object& o, std::string_view key) {
  std::vector<EntityStats> out;
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& item : v->get_array()) {
    if (item.is_object()) out.push_back(entity(item.get_object()));
  }
  return out;
}

}  // namespace

core::Result<StatsFrame> parseStatsJson(std::string_view body) {
  json::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return core::Error{"", "stats: not a JSON object"};
  const json::object& o = doc.get_object();
  StatsFrame f;
  f.sequence = count(o, "sequence");
  f.timestampMs = static_cast<std::int64_t>(number(o, "timestamp_ms"));
  f.intervalS = number(o, "interval_s");
  f.workers = static_cast<int>(number(o, "workers"));
  const json::object& connections = object(o, "connections");
  f.activeConnections = count(connections, "active");
  f.totalConnections = count(connections, "total");
  f.total = entity(object(o, "total"));
  f.routes = entities(o, "routes");
  f.services = entities(o, "services");
  f.consumers = entities(o, "consumers");
  f.consumersActive = count(o, "consumers_active");
  f.targets = entities(o, "targets");
  const json::value* plugins = o.if_contains("plugins");
  if (plugins && plugins->is_array()) {
    for (const auto& item : plugins->get_array()) {
      if (!item.is_object()) continue;
      const json::object& p = item.get_object();
      PluginStats s;
      s.plugin = text(p, "plugin");
      s.route = text(p, "route");
      s.routeId = text(p, "route_id");
      s.requests = count(p, "requests");
      s.meanUs = number(p, "mean_us");
      s.p99Us = number(p, "p99_us");
      s.maxUs = number(p, "max_us");
      f.plugins.push_back(std::move(s));
    }
  }
  return f;
}

}  // namespace archway::metrics
