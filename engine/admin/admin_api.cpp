#include "admin/admin_api.h"

#include <unistd.h>

#include <cstdio>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "admin/certificate_handlers.h"
#include "admin/entity_handlers.h"
#include "admin/node_handlers.h"
#include "admin/observability_handlers.h"
#include "admin/paging.h"
#include "admin/trace_handlers.h"
#include "admin/plugin_handlers.h"
#include "balancer/target_address.h"
#include "config/export.h"
#include "core/log.h"
#include "config/json_shapes.h"
#include "plugins/prometheus/prometheus.h"

namespace archway::admin {
namespace json = boost::json;

namespace {

AdminResponse respond(int status, const json::value& v) {
  return {status, json::serialize(v)};
}
AdminResponse message(int status, std::string_view m) {
  return respond(status, json::object{{"message", m}});
}

// VmRSS of this process, for the memory gauge.
std::uint64_t residentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<std::uint64_t>(resident) *
                      static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE))
                : 0;
}

// Compares SHA-256 digests with CRYPTO_memcmp: the time taken depends neither on where the
// given token first differs nor on its length.
bool tokenMatches(std::string_view expected, std::string_view given) {
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int na = 0, nb = 0;
  if (!EVP_Digest(expected.data(), expected.size(), a, &na, EVP_sha256(), nullptr) ||
      !EVP_Digest(given.data(), given.size(), b, &nb, EVP_sha256(), nullptr) || na != nb)
    return false;
  return CRYPTO_memcmp(a, b, na) == 0;
}

template <class Entity>
const Entity* findEntity(const std::vector<Entity>& all, std::string_view key) {
  for (const auto& e : all) {
    if (e.id == key || (e.name && *e.name == key)) return &e;
  }
  return nullptr;
}

// GET /upstreams/{u}/health (kong/api/routes/upstreams.lua): each target with its health, its
// addresses (a hostname target: each resolved address with its own health) and weights
// (kong/runloop/balancer getTargetStatus); with ?balancer_health=1 the balancer's own status
// (kong/runloop/balancer: health, id, details.healthy and details.weight).
AdminResponse upstreamHealth(const AdminContext& ctx, const core::Upstream& u,
                             const std::vector<core::Target>& targets,
                             const boost::urls::params_view& params) {
  auto healthOf = [&](const core::Target& t) -> std::string {
    return ctx.health ? ctx.health(u.id, t.target) : "HEALTHCHECKS_OFF";
  };
  auto flag = params.find("balancer_health");
  if (flag != params.end() && (*flag).value != "0" && (*flag).value != "false") {
    bool checksOff = true;
    for (const auto& t : targets) checksOff = checksOff && healthOf(t) == "HEALTHCHECKS_OFF";
    auto b = ctx.balancerHealth ? ctx.balancerHealth(u.id) : std::nullopt;
    if (!b) b = AdminContext::BalancerHealth{};
    json::object details{{"healthy", b->healthy},
                         {"weight", json::object{{"total", b->total},
                                                 {"available", b->available},
                                                 {"unavailable", b->unavailable}}}};
    const char* health = checksOff ? "HEALTHCHECKS_OFF" : b->healthy ? "HEALTHY" : "UNHEALTHY";
    json::object data{{"health", health}, {"id", u.id}, {"details", std::move(details)}};
    return respond(200, json::object{{"data", std::move(data)}, {"next", nullptr},
                                     {"node_id", ctx.nodeId}});
  }
  json::array data;
  for (const auto& t : targets) {
    json::object o = config::toJson(t);
    auto detail = ctx.targetHealthDetail ? ctx.targetHealthDetail(u.id, t.target) : std::nullopt;
    if (!detail) {  // no health state: an IP target lists itself
      detail = AdminContext::TargetHealthDetail{healthOf(t), t.weight, t.weight, {}};
      if (detail->health == "UNHEALTHY" || detail->health == "DNS_ERROR") detail->available = 0;
      if (auto a = balancer::parseTargetAddress(t.target); a && a->isIp)
        detail->addresses.push_back({a->host, a->port, detail->health, t.weight});
    }
    json::array addresses;
    for (const auto& a : detail->addresses) {
      addresses.push_back(
          json::object{{"ip", a.ip}, {"port", a.port}, {"health", a.health}, {"weight", a.weight}});
    }
    o["health"] = std::move(detail->health);
    json::object weight{{"total", detail->total},
                        {"available", detail->available},
                        {"unavailable", detail->total - detail->available}};
    o["data"] = json::object{{"addresses", std::move(addresses)}, {"weight", std::move(weight)}};
    data.push_back(std::move(o));
  }
  return respond(200, json::object{{"data", std::move(data)}, {"next", nullptr},
                                   {"node_id", ctx.nodeId}});
}

}  // namespace

std::string AdminApi::statsJson() const {
  auto frame = ctx_.stats ? ctx_.stats() : nullptr;
  return metrics::renderStatsJson(frame ? *frame : metrics::StatsFrame{});
}

AdminApi::AdminApi(AdminContext context) : ctx_(std::move(context)) {}

AdminResponse AdminApi::handle(const AdminRequest& req) const {
  if (!ctx_.token.empty() && !tokenMatches(ctx_.token, req.token)) {
    return message(401, "Unauthorized");
  }
  auto url = boost::urls::parse_origin_form(req.target);
  if (!url) return message(400, "Bad request");
  std::string path(url->path());
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::vector<std::string> segs;
  for (auto s : url->segments()) {
    if (!s.empty()) segs.push_back(s);
  }
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool reachable = !ctx_.databaseReachable || ctx_.databaseReachable();
  auto config = ctx_.config ? ctx_.config() : nullptr;
  static const core::Config kEmpty;
  const core::Config& cfg = config ? *config : kEmpty;

  // Kong 3.x: the log level changes at run time (GET/PUT /debug/node/log-level[/{level}]).
  if (segs.size() >= 3 && segs[0] == "debug" && segs[1] == "node" && segs[2] == "log-level") {
    static constexpr const char* kNames[] = {"debug", "info", "warn", "error", "off"};
    if (segs.size() == 3 && get) {
      return message(200, std::string("log level: ") +
                              kNames[static_cast<int>(core::log::level())]);
    }
    if (segs.size() == 4 && req.method == "PUT") {
      core::log::Level level;
      // Kong's nginx level names map onto ours.
      std::string name = segs[3];
      if (name == "notice") name = "info";
      if (name == "crit" || name == "alert" || name == "emerg") name = "error";
      if (!core::log::parseLevel(name, level)) return message(400, "unknown log level: " + segs[3]);
      core::log::setLevel(level);
      core::log::info("log level changed", {{"level", name}});
      return message(200, "log level changed");
    }
    return segs.size() <= 4 ? message(405, "Method not allowed") : message(404, "Not found");
  }
  if (segs.size() >= 2 && segs.size() <= 3 && segs[0] == "archway" && segs[1] == "traces") {
    if (!get) return message(405, "Method not allowed");
    static const trace::TraceStore kNoTraces(1);
    const trace::TraceStore& store = ctx_.traces ? *ctx_.traces : kNoTraces;
    auto r = segs.size() == 2 ? handleTraceList(store, url->encoded_query())
                              : handleTraceById(store, segs[2]);
    return AdminResponse{r.status, std::move(r.body)};
  }
  if (segs.size() == 2 && segs[0] == "archway" && segs[1] == "tracing") {
    auto r = handleTracing(ctx_.sampler, req);
    if (req.method == "HEAD") r.body.clear();
    return r;
  }
  if (segs.size() == 3 && segs[0] == "archway" && segs[1] == "logs" &&
      (segs[2] == "error" || segs[2] == "access")) {
    if (!get) return message(405, "Method not allowed");
    auto r = segs[2] == "error" ? handleErrorLogs(url->encoded_query())
                                : handleAccessLogs(ctx_, url->encoded_query());
    if (req.method == "HEAD") r.body.clear();
    return r;
  }
  if (auto r = handleNode(ctx_, req, segs, config)) {
    if (req.method == "HEAD") r->body.clear();
    return *r;
  }
  if (auto r = handleConsumersAndPlugins(ctx_, req, segs, req.target)) {
    if (req.method == "HEAD") r->body.clear();
    return *r;
  }
  if (auto r = handleCertificates(ctx_, req, segs, req.target)) {
    if (req.method == "HEAD") r->body.clear();
    return *r;
  }
  if (auto r = handleTags(ctx_, req, segs, req.target)) {
    if (req.method == "HEAD") r->body.clear();
    return *r;
  }
  auto known = [&]() -> bool {
    if (segs.empty()) return true;
    if (segs[0] == "status" && segs.size() == 1) return true;
    if (segs[0] == "status" && segs.size() == 2 && segs[1] == "ready") return true;
    if (segs[0] == "metrics" && segs.size() == 1) return true;
    if (segs[0] == "archway" && segs.size() == 2 && segs[1] == "stats") return true;
    if (segs[0] == "archway" && segs.size() == 3 && segs[1] == "stats" && segs[2] == "stream")
      return true;
    if (segs[0] == "config" && segs.size() == 1) return true;
    if ((segs[0] == "services" || segs[0] == "routes") && segs.size() <= 2) return true;
    if (segs.size() >= 3 && segs.size() <= 4 && segs[0] == "services" && segs[2] == "routes")
      return true;
    if (segs[0] == "upstreams" && segs.size() <= 2) return true;
    if (segs[0] == "upstreams" && segs.size() == 3 && (segs[2] == "targets" || segs[2] == "health"))
      return true;
    if (segs[0] == "upstreams" && segs.size() == 4 && segs[2] == "targets") return true;
    return false;
  };
  if (!known()) return message(404, "Not found");
  if (segs.size() == 1 && segs[0] == "config" && req.method != "OPTIONS") {
    if (auto r = handleConfigEndpoint(ctx_, req, url->params())) return *r;
    return message(405, "Method not allowed");
  }
  if (!get) {
    if (auto r = handleEntityWrite(ctx_, req, segs)) return *r;
    if (req.method == "OPTIONS") return {204, ""};
    return message(405, "Method not allowed");
  }

  if (segs[0] == "metrics") {
    auto frame = ctx_.stats ? ctx_.stats() : nullptr;
    metrics::ExpositionInput in;
    in.frame = frame.get();
    if (ctx_.targetHealth) in.targets = ctx_.targetHealth();
    in.nodeId = ctx_.nodeId;
    in.version = ctx_.version;
    in.residentBytes = residentBytes();
    in.datastoreReachable = reachable;
    if (auto g = plugins::prometheusGroups(cfg)) {
      in.groups.statusCode = g->statusCode;
      in.groups.latency = g->latency;
      in.groups.bandwidth = g->bandwidth;
      in.groups.upstreamHealth = g->upstreamHealth;
    }
    AdminResponse r{200, metrics::renderPrometheus(in)};
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  if (segs[0] == "archway") {
    if (segs.size() == 3) {
      AdminResponse r{200, {}};
      r.contentType = "text/event-stream";
      r.eventStream = true;
      return r;
    }
    return AdminResponse{200, statsJson()};
  }
  if (segs[0] == "status" && segs.size() == 2) {
    // Kong's readiness probe (kong/status/ready.lua): the config is built before the listeners
    // open, so only the database can make a node not ready. It still proxies on its last config.
    if (ctx_.draining->load()) return message(503, "draining");
    return reachable ? message(200, "ready") : message(503, "failed to connect to database");
  }
  if (segs[0] == "status") {
    auto stats = ctx_.stats ? ctx_.stats() : nullptr;
    json::object server;
    std::uint64_t active = stats ? stats->activeConnections : 0;
    std::uint64_t total = stats ? stats->totalConnections : 0;
    server["connections_accepted"] = total;
    server["connections_handled"] = total;
    server["connections_active"] = active;
    server["connections_reading"] = 0;
    server["connections_writing"] = active;
    server["connections_waiting"] = 0;
    server["total_requests"] = stats ? stats->total.requests : 0;
    json::object o;
    o["server"] = std::move(server);
    o["database"] = json::object{{"reachable", reachable}};
    o["configuration_hash"] = config::configHash(config);  // remembered per config
    o["memory"] =
        json::object{{"workers_lua_vms", json::array{}}, {"lua_shared_dicts", json::object{}}};
    return respond(200, o);
  }
  if (segs[0] == "services") {
    if (segs.size() == 1) return page(cfg.services, "services", url->params());
    const core::Service* s = findEntity(cfg.services, segs[1]);
    if (!s) return message(404, "Not found");
    if (segs.size() == 2) return respond(200, config::toJson(*s));
    if (segs.size() == 4) {
      const core::Route* r = findEntity(cfg.routes, segs[3]);
      if (!r || r->serviceId != s->id) return message(404, "Not found");
      return respond(200, config::toJson(*r));
    }
    std::vector<core::Route> routes;
    for (const auto& r : cfg.routes) {
      if (r.serviceId && *r.serviceId == s->id) routes.push_back(r);
    }
    return page(routes, "services/" + s->id + "/routes", url->params());
  }
  if (segs[0] == "upstreams") {
    if (segs.size() == 1) return page(cfg.upstreams, "upstreams", url->params());
    const core::Upstream* u = cfg.findUpstream(segs[1]);
    if (!u) return message(404, "Not found");
    if (segs.size() == 2) return respond(200, config::toJson(*u));
    std::vector<core::Target> targets;
    for (const auto& t : cfg.targets) {
      if (t.upstreamId == u->id) targets.push_back(t);
    }
    if (segs[2] == "health") return upstreamHealth(ctx_, *u, targets, url->params());
    if (segs.size() == 3) return page(targets, "upstreams/" + u->id + "/targets", url->params());
    if (segs[3] == "all")
      return page(targets, "upstreams/" + u->id + "/targets/all", url->params());
    for (const auto& t : targets) {
      if (t.id == segs[3] || t.target == segs[3]) return respond(200, config::toJson(t));
    }
    return message(404, "Not found");
  }
  if (segs[0] == "routes") {
    if (segs.size() == 1) return page(cfg.routes, "routes", url->params());
    const core::Route* r = findEntity(cfg.routes, segs[1]);
    if (!r) return message(404, "Not found");
    return respond(200, config::toJson(*r));
  }
  return message(404, "Not found");
}

}  // namespace archway::admin
