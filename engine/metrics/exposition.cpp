#include "metrics/exposition.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>

namespace archway::metrics {
namespace {

// Label values: backslash, double quote and newline escaped (exposition format).
std::string escapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void histogram(std::string& out, const char* name, const EntityList& routes,
               const CumulativeLatency EntityStats::*field) {
  for (const auto& r : routes) {
    const CumulativeLatency& h = r.*field;
    if (h.count == 0) continue;
    const std::string labels = "service=\"" + escapeLabel(r.service) + "\",route=\"" +
                               escapeLabel(r.name) + "\",workspace=\"default\"";
    for (std::size_t i = 0; i < kKongLatencyBucketsMs.size(); ++i) {
      out += name;
      out += "_bucket{" + labels + ",le=\"" + number(kKongLatencyBucketsMs[i]) + "\"} ";
      out += std::to_string(h.buckets[i]);
      out += '\n';
    }
    out += name;
    out += "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + '\n';
    out += name;
    out += "_sum{" + labels + "} " + number(h.sumMs) + '\n';
    out += name;
    out += "_count{" + labels + "} " + std::to_string(h.count) + '\n';
  }
}

// kong_http_requests_total: one route's responses with one status code (for one consumer).
void requestsTotal(std::string& out, const EntityStats& route, int code,
                   const std::string& consumer, std::uint64_t n) {
  out += "kong_http_requests_total{service=\"" + escapeLabel(route.service) + "\",route=\"" +
         escapeLabel(route.name) + "\",code=\"" + std::to_string(code) +
         "\",source=\"service\",workspace=\"default\",consumer=\"" + escapeLabel(consumer) +
         "\"} " + std::to_string(n) + '\n';
}

// kong_bandwidth_bytes: one route's request and response bytes (for one consumer).
void bandwidth(std::string& out, const EntityStats& route, const std::string& consumer,
               std::uint64_t bytesIn, std::uint64_t bytesOut) {
  const std::string labels = "service=\"" + escapeLabel(route.service) + "\",route=\"" +
                             escapeLabel(route.name) + "\"";
  const std::string tail = ",workspace=\"default\",consumer=\"" + escapeLabel(consumer) + "\"} ";
  out += "kong_bandwidth_bytes{" + labels + ",direction=\"ingress\"" + tail +
         std::to_string(bytesIn) + '\n';
  out += "kong_bandwidth_bytes{" + labels + ",direction=\"egress\"" + tail +
         std::to_string(bytesOut) + '\n';
}

boost::json::object entityJson(const EntityStats& e) {
  boost::json::object o;
  o["id"] = e.id;
  o["name"] = e.name;
  if (!e.service.empty()) o["service"] = e.service;
  if (!e.upstream.empty()) o["upstream"] = e.upstream;
  o["requests"] = e.requests;
  o["rps"] = e.rps;
  o["errors_4xx"] = e.status4xx;
  o["errors_5xx"] = e.status5xx;
  o["status"] = boost::json::object{{"1xx", e.status1xx},
                                    {"2xx", e.status2xx},
                                    {"3xx", e.status3xx},
                                    {"4xx", e.status4xx},
                                    {"5xx", e.status5xx}};
  o["bytes_in"] = e.bytesIn;
  o["bytes_out"] = e.bytesOut;
  auto latency = [](const LatencySummary& l) {
    return boost::json::object{{"p50", l.p50},   {"p90", l.p90},    {"p95", l.p95},
                               {"p99", l.p99},   {"p999", l.p999},  {"max", l.max},
                               {"mean", l.mean}, {"count", l.count}};
  };
  // The unsuffixed keys are the last second (and latency_10s_ms the older name of
  // latency_ms_10s), kept for existing readers.
  o["latency_ms"] = latency(e.latency1s);
  o["latency_10s_ms"] = latency(e.latency10s);
  o["latency_ms_10s"] = latency(e.latency10s);
  o["latency_ms_60s"] = latency(e.latency60s);
  o["upstream_latency_ms"] = latency(e.upstreamLatency1s);
  o["upstream_latency_ms_10s"] = latency(e.upstreamLatency10s);
  o["upstream_latency_ms_60s"] = latency(e.upstreamLatency60s);
  o["gateway_latency_ms"] = latency(e.gatewayLatency1s);
  o["gateway_latency_ms_10s"] = latency(e.gatewayLatency10s);
  o["gateway_latency_ms_60s"] = latency(e.gatewayLatency60s);
  return o;
}

}  // namespace

std::string renderPrometheus(const ExpositionInput& in) {
  std::string out;
  out.reserve(4096);
  const StatsFrame empty;
  const StatsFrame& f = in.frame ? *in.frame : empty;

  header(out, "kong_node_info", "gauge", "Kong Node metadata information");
  out += "kong_node_info{node_id=\"" + escapeLabel(in.nodeId) + "\",version=\"" +
         escapeLabel(in.version) + "\"} 1\n";

  header(out, "kong_datastore_reachable", "gauge",
         "Datastore reachable from Kong, 0 is unreachable");
  out += std::string("kong_datastore_reachable ") + (in.datastoreReachable ? "1" : "0") + '\n';

  header(out, "kong_nginx_connections_total", "gauge", "Number of connections by subsystem");
  const std::string node = "node_id=\"" + escapeLabel(in.nodeId) + "\",subsystem=\"http\"";
  out += "kong_nginx_connections_total{" + node + ",state=\"accepted\"} " +
         std::to_string(f.totalConnections) + '\n';
  out += "kong_nginx_connections_total{" + node + ",state=\"active\"} " +
         std::to_string(f.activeConnections) + '\n';
  out += "kong_nginx_connections_total{" + node + ",state=\"handled\"} " +
         std::to_string(f.totalConnections) + '\n';

  header(out, "kong_nginx_requests_total", "gauge", "Number of requests total");
  out += "kong_nginx_requests_total{" + node + "} " + std::to_string(f.total.requests) + '\n';

  if (in.groups.statusCode) {
  header(out, "kong_http_requests_total", "counter",
         "HTTP status codes per consumer/service/route in Kong");
  if (f.perConsumer) {  // prometheus per_consumer: one series per consumer
    for (const auto& rc : f.routeConsumers) {
      if (rc.status >= 100 && rc.route < f.routes.size())
        requestsTotal(out, f.routes[rc.route], rc.status, rc.consumer, rc.requests);
    }
  } else {
    for (const auto& r : f.routes)
      for (const auto& [code, n] : r.statusCodes) requestsTotal(out, r, code, {}, n);
  }
  }

  if (in.groups.latency) {
  header(out, "kong_request_latency_ms", "histogram",
         "Total latency incurred during requests for each service/route in Kong");
  histogram(out, "kong_request_latency_ms", f.routes, &EntityStats::requestLatency);
  header(out, "kong_upstream_latency_ms", "histogram",
         "Latency added by upstream response for each service/route in Kong");
  histogram(out, "kong_upstream_latency_ms", f.routes, &EntityStats::upstreamLatency);
  header(out, "kong_kong_latency_ms", "histogram",
         "Latency added by Kong and enabled plugins for each service/route in Kong");
  histogram(out, "kong_kong_latency_ms", f.routes, &EntityStats::gatewayLatency);
  }

  if (in.groups.bandwidth) {
  header(out, "kong_bandwidth_bytes", "counter",
         "Total bandwidth (ingress/egress) throughput in bytes");
  if (f.perConsumer) {
    // routeConsumers is ordered by route and consumer: sum each run over its status codes.
    const auto& rcs = f.routeConsumers;
    for (std::size_t i = 0; i < rcs.size();) {
      std::uint64_t bytesIn = 0, bytesOut = 0;
      std::size_t j = i;
      for (; j < rcs.size() && rcs[j].route == rcs[i].route && rcs[j].consumer == rcs[i].consumer;
           ++j) {
        bytesIn += rcs[j].bytesIn;
        bytesOut += rcs[j].bytesOut;
      }
      if (rcs[i].route < f.routes.size())
        bandwidth(out, f.routes[rcs[i].route], rcs[i].consumer, bytesIn, bytesOut);
      i = j;
    }
  } else {
    for (const auto& r : f.routes)
      if (r.requests != 0) bandwidth(out, r, {}, r.bytesIn, r.bytesOut);
  }
  }

  if (in.groups.upstreamHealth) {
  header(out, "kong_upstream_target_health", "gauge",
         "Health status of targets of upstream. States = "
         "healthchecks_off|healthy|unhealthy|dns_error, "
         "value is 1 when state is populated.");
  static const char* const kStates[] = {"healthchecks_off", "healthy", "unhealthy", "dns_error"};
  for (const auto& t : in.targets) {
    for (const char* state : kStates) {
      out += "kong_upstream_target_health{upstream=\"" + escapeLabel(t.upstream) + "\",target=\"" +
             escapeLabel(t.target) + "\",address=\"" + escapeLabel(t.address) + "\",state=\"" +
             state + "\",subsystem=\"http\"} " + (t.state == state ? "1" : "0") + '\n';
    }
  }
  }

  // Archway's own: the time each plugin takes per request on each route (all phases), which
  // Kong only offers in its Enterprise edition.
  header(out, "archway_plugin_latency_seconds", "summary",
         "Time a plugin spends per request on a route, all its phases together");
  for (const auto& p : f.plugins) {
    const std::string labels =
        "plugin=\"" + escapeLabel(p.plugin) + "\",route=\"" + escapeLabel(p.route) + "\"";
    out += "archway_plugin_latency_seconds{" + labels + ",quantile=\"0.99\"} " +
           std::to_string(p.p99Us / 1e6) + '\n';
    out += "archway_plugin_latency_seconds_sum{" + labels + "} " + std::to_string(p.sumUs / 1e6) +
           '\n';
    out += "archway_plugin_latency_seconds_count{" + labels + "} " + std::to_string(p.requests) +
           '\n';
  }

  if (f.perConsumer) {
    header(out, "archway_prometheus_per_consumer_dropped_total", "counter",
           "Requests left out of the per-consumer series: a worker's table of "
           "route/consumer/status keys was full");
    out += "archway_prometheus_per_consumer_dropped_total " +
           std::to_string(f.perConsumerDropped) + '\n';
  }

  header(out, "archway_process_resident_memory_bytes", "gauge",
         "Resident memory of the archway process");
  out += "archway_process_resident_memory_bytes " + std::to_string(in.residentBytes) + '\n';
  return out;
}

std::string renderStatsJson(const StatsFrame& f) {
  boost::json::object o;
  o["sequence"] = f.sequence;
  o["timestamp_ms"] = f.timestampMs;
  o["interval_s"] = f.intervalS;
  o["workers"] = f.workers;
  o["connections"] =
      boost::json::object{{"active", f.activeConnections}, {"total", f.totalConnections}};
  o["total"] = entityJson(f.total);
  boost::json::array routes, services;
  for (const auto& r : f.routes) routes.push_back(entityJson(r));
  for (const auto& s : f.services) services.push_back(entityJson(s));
  o["routes"] = std::move(routes);
  o["services"] = std::move(services);
  boost::json::array consumers, targets;
  for (const auto& c : f.consumers) consumers.push_back(entityJson(c));
  for (const auto& t : f.targets) targets.push_back(entityJson(t));
  o["consumers"] = std::move(consumers);
  o["consumers_active"] = f.consumersActive;
  o["targets"] = std::move(targets);
  boost::json::array plugins;
  for (const auto& p : f.plugins) {
    plugins.push_back(boost::json::object{{"plugin", p.plugin},
                                          {"route", p.route},
                                          {"route_id", p.routeId},
                                          {"requests", p.requests},
                                          {"mean_us", p.meanUs},
                                          {"p99_us", p.p99Us},
                                          {"max_us", p.maxUs}});
  }
  o["plugins"] = std::move(plugins);
  return boost::json::serialize(o);
}

}  // namespace archway::metrics
