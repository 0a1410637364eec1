#include "admin/node_handlers.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <set>

#include "admin/entity_handlers.h"
#include "admin/entity_schemas.h"
#include "admin/request_body.h"
#include "config/declarative.h"
#include "config/json_shapes.h"
#include "plugins/registry.h"

namespace archway::admin {
namespace json = boost::json;

namespace {

// Names of the plugins a config enables, computed once per config: GET / is polled by load
// balancers and consoles, and must not walk 10^5 plugin rows on every call.
std::vector<std::string> enabledPlugins(const std::shared_ptr<const core::Config>& config) {
  static std::mutex mutex;
  static std::weak_ptr<const core::Config> cachedFor;
  static std::vector<std::string> cached;
  if (!config) return {};
  std::lock_guard lock(mutex);
  const bool same = !cachedFor.owner_before(config) && !config.owner_before(cachedFor) &&
                    !cachedFor.expired();
  if (!same) {
    std::set<std::string> names;
    for (const auto& p : config->plugins)
      if (p.enabled) names.insert(p.name);
    cached.assign(names.begin(), names.end());
    cachedFor = config;
  }
  return cached;
}

// Splits "127.0.0.1:8001, 0.0.0.0:8444 ssl" into Kong's list of listen entries.
json::array listenList(std::string_view text) {
  json::array out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.push_back(json::string(item));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

AdminResponse nodeInfo(const AdminContext& ctx, const std::shared_ptr<const core::Config>& cfg) {
  json::object available;
  for (const auto* f : plugins::all()) {
    available[f->name()] = json::object{{"version", ctx.version}, {"priority", f->priority()}};
  }
  json::array enabled;
  for (auto& name : enabledPlugins(cfg)) enabled.push_back(json::string(name));
  json::object o;
  o["tagline"] = "Welcome to archway";
  o["version"] = "3.9.0";  // the Kong Admin API version this node is compatible with
  o["archway_version"] = ctx.version;
  o["edition"] = "community";
  o["hostname"] = ctx.hostname;
  o["node_id"] = ctx.nodeId;
  o["lua_version"] = nullptr;
  o["plugins"] = json::object{{"available_on_server", std::move(available)},
                              {"enabled_in_cluster", std::move(enabled)},
                              {"disabled_on_server", json::object{}}};
  json::object conf;
  conf["database"] = ctx.database;
  conf["proxy_listen"] = listenList(ctx.proxyListen);
  conf["admin_listen"] = listenList(ctx.adminListen);
  conf["nginx_worker_processes"] = ctx.workers;
  conf["router_flavor"] = "traditional_compatible";
  o["configuration"] = std::move(conf);
  json::array workers;
  for (int i = 0; i < ctx.workers; ++i) workers.push_back(::getpid());
  o["pids"] = json::object{{"master", ::getpid()}, {"workers", std::move(workers)}};
  o["timers"] = json::object{{"running", 0}, {"pending", 0}};
  return jsonResponse(200, o);
}

// Every path template this Admin API answers, as Kong's GET /endpoints lists them.
AdminResponse endpoints() {
  static const std::vector<std::string> paths = [] {
    std::vector<std::string> p = {
        "/",
        "/config",
        "/debug/node/log-level",
        "/debug/node/log-level/{log_level}",
        "/endpoints",
        "/metrics",
        "/plugins/enabled",
        "/schemas/plugins/validate",
        "/schemas/plugins/{name}",
        "/schemas/plugins/{name}/validate",
        "/status",
        "/status/ready",
        "/tags",
        "/tags/{tags}",
        "/archway/stats",
        "/archway/stats/stream",
        "/archway/traces",
        "/archway/traces/{id}",
        "/archway/tracing",
        "/archway/logs/error",
        "/archway/logs/access",
        "/upstreams/{upstreams}/health",
        "/upstreams/{upstreams}/targets/all",
        "/upstreams/{upstreams}/targets/{targets}/healthy",
        "/upstreams/{upstreams}/targets/{targets}/unhealthy",
        "/upstreams/{upstreams}/targets/{targets}/{address}/healthy",
        "/upstreams/{upstreams}/targets/{targets}/{address}/unhealthy",
        "/routes/{routes}/service",
        "/plugins/{plugins}/route",
        "/plugins/{plugins}/service",
        "/plugins/{plugins}/consumer",
        "/snis/{snis}/certificate",
        "/certificates/{certificates}/snis",
        "/certificates/{certificates}/snis/{snis}",
        "/services/{services}/routes",
        "/services/{services}/routes/{routes}",
        "/services/{services}/plugins",
        "/services/{services}/plugins/{plugins}",
        "/routes/{routes}/plugins",
        "/routes/{routes}/plugins/{plugins}",
        "/consumers/{consumers}/plugins",
        "/consumers/{consumers}/plugins/{plugins}",
        "/upstreams/{upstreams}/targets",
        "/upstreams/{upstreams}/targets/{targets}",
    };
    for (const char* e : {"services", "routes", "upstreams", "consumers", "plugins",
                          "certificates", "snis", "ca_certificates", "key-auths", "basic-auths",
                          "jwts", "acls"}) {
      p.push_back(std::string("/") + e);
      p.push_back(std::string("/") + e + "/{" + e + "}");
    }
    for (const char* c : {"key-auth", "basic-auth", "jwt", "acls"}) {
      p.push_back(std::string("/consumers/{consumers}/") + c);
      p.push_back(std::string("/consumers/{consumers}/") + c + "/{" + c + "}");
    }
    for (const char* c : {"key-auths", "basic-auths", "jwts", "acls"})
      p.push_back(std::string("/") + c + "/{" + c + "}/consumer");
    for (const auto& e : schemaEntities()) {
      p.push_back("/schemas/" + e);
      p.push_back("/schemas/" + e + "/validate");
    }
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
    return p;
  }();
  json::array data;
  for (const auto& p : paths) data.push_back(json::string(p));
  return jsonResponse(200, json::object{{"data", std::move(data)}, {"next", nullptr}});
}

template <class Entity>
const Entity* byIdOrName(const std::vector<Entity>& all, std::string_view key) {
  for (const auto& e : all)
    if (e.id == key || (e.name && *e.name == key)) return &e;
  return nullptr;
}

// GET /routes/{r}/service and /plugins/{p}/route|service|consumer.
std::optional<AdminResponse> foreignEntity(const AdminRequest& req,
                                           const std::vector<std::string>& segs,
                                           const core::Config& cfg) {
  if (segs.size() != 3) return std::nullopt;
  const bool get = req.method == "GET" || req.method == "HEAD";
  auto answer = [&](const auto* entity) -> AdminResponse {
    if (!get) return messageResponse(405, "Method not allowed");
    if (!entity) return messageResponse(404, "Not found");
    return jsonResponse(200, config::toJson(*entity));
  };
  auto find = [](const auto& all, const std::optional<std::string>& id) {
    using E = std::remove_cvref_t<decltype(all[0])>;
    if (!id) return static_cast<const E*>(nullptr);
    for (const auto& e : all)
      if (e.id == *id) return &e;
    return static_cast<const E*>(nullptr);
  };
  if (segs[0] == "routes" && segs[2] == "service") {
    const core::Route* r = byIdOrName(cfg.routes, segs[1]);
    if (!r) return messageResponse(404, "Not found");
    return answer(find(cfg.services, r->serviceId));
  }
  if (segs[0] == "plugins" && (segs[2] == "route" || segs[2] == "service" ||
                               segs[2] == "consumer")) {
    const core::Plugin* p = nullptr;
    for (const auto& x : cfg.plugins)
      if (x.id == segs[1] || (x.instanceName && *x.instanceName == segs[1])) p = &x;
    if (!p) return messageResponse(404, "Not found");
    if (segs[2] == "route") return answer(find(cfg.routes, p->routeId));
    if (segs[2] == "service") return answer(find(cfg.services, p->serviceId));
    return answer(find(cfg.consumers, p->consumerId));
  }
  return std::nullopt;
}

// POST /upstreams/{u}/targets/{t}[/{address}]/healthy|unhealthy.
std::optional<AdminResponse> setHealth(const AdminContext& ctx, const AdminRequest& req,
                                       const std::vector<std::string>& segs,
                                       const core::Config& cfg) {
  if (segs.size() < 5 || segs.size() > 6 || segs[0] != "upstreams" || segs[2] != "targets" ||
      (segs.back() != "healthy" && segs.back() != "unhealthy"))
    return std::nullopt;
  if (req.method != "POST") return messageResponse(405, "Method not allowed");
  const core::Upstream* u = cfg.findUpstream(segs[1]);
  if (!u) return messageResponse(404, "Not found");
  const core::Target* t = nullptr;
  for (const auto& x : cfg.targets)
    if (x.upstreamId == u->id && (x.id == segs[3] || x.target == segs[3])) t = &x;
  if (!t) return messageResponse(404, "Not found");
  if (segs.size() == 6 && ctx.setAddressHealth) {  // one address of the target (Kong)
    auto r = ctx.setAddressHealth(u->id, t->target, segs[4], segs.back() == "healthy");
    if (r.status != 204) return messageResponse(r.status, r.message);
    return AdminResponse{204, ""};
  }
  if (!ctx.setTargetHealth || !ctx.setTargetHealth(u->id, t->target, segs.back() == "healthy"))
    return messageResponse(404, "Not found");
  return AdminResponse{204, ""};
}

// POST /schemas/{entity}/validate: the POST the entity's collection would take, run against a
// context whose apply only validates. Entities that live under a parent (targets, credentials)
// take the parent from the body, as Kong's schema validation does.
AdminResponse validateEntity(const AdminContext& ctx, const AdminRequest& req,
                             const std::string& entity) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kNested = {
      {"targets", "upstream"},         {"keyauth_credentials", "consumer"},
      {"basicauth_credentials", "consumer"}, {"jwt_secrets", "consumer"},
      {"acls", "consumer"}};
  static const std::vector<std::pair<std::string_view, std::string_view>> kCollection = {
      {"targets", "targets"},         {"keyauth_credentials", "key-auth"},
      {"basicauth_credentials", "basic-auth"}, {"jwt_secrets", "jwt"},
      {"acls", "acls"}};
  std::string target = "/" + entity;
  for (std::size_t i = 0; i < kNested.size(); ++i) {
    if (kNested[i].first != entity) continue;
    const std::string parent(kNested[i].second);
    auto body = parseRequestBody(req.body, req.contentType);
    if (!body) return messageResponse(400, body.errors().front().message);
    std::string ref;
    if (auto* v = body->fields.if_contains(parent)) {
      if (v->is_object()) {
        const auto& o = v->as_object();
        for (const char* k : {"id", "name", "username"})
          if (auto* x = o.if_contains(k); x && x->is_string()) ref = std::string(x->as_string());
      } else if (v->is_string()) {
        ref = std::string(v->as_string());
      }
    }
    if (ref.empty()) {
      return jsonResponse(400, json::object{
                              {"code", 2},
                              {"name", "schema violation"},
                              {"message", "schema violation (" + parent + ": required field missing)"},
                              {"fields", json::object{{parent, "required field missing"}}}});
    }
    target = "/" + parent + "s/" + ref + "/" + std::string(kCollection[i].second);
  }
  // The handler answers with the entity as the applied config holds it, so the dry context
  // keeps what it "applied" for its own config().
  AdminContext dry = ctx;
  auto applied = std::make_shared<std::shared_ptr<const core::Config>>(
      ctx.config ? ctx.config() : std::make_shared<const core::Config>());
  dry.config = [applied] { return *applied; };
  dry.apply = [applied](core::Config c) -> core::Status {
    auto checked = config::validate(c);
    if (checked) *applied = std::make_shared<const core::Config>(std::move(c));
    return checked;
  };
  AdminRequest inner = req;
  inner.target = target;
  AdminResponse r = AdminApi(std::move(dry)).handle(inner);
  if (r.status == 200 || r.status == 201) return messageResponse(200, "schema validation successful");
  return r;
}

}  // namespace

std::optional<AdminResponse> handleNode(const AdminContext& ctx, const AdminRequest& req,
                                        const std::vector<std::string>& segs,
                                        const std::shared_ptr<const core::Config>& config) {
  static const core::Config kEmpty;
  const core::Config& cfg = config ? *config : kEmpty;
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (segs.empty()) {
    if (!get) return std::nullopt;  // OPTIONS and writes: the caller's 204/405
    return nodeInfo(ctx, config);
  }
  if (segs.size() == 1 && segs[0] == "endpoints") {
    return get ? endpoints() : messageResponse(405, "Method not allowed");
  }
  if (segs[0] == "schemas" && segs.size() >= 2 && segs.size() <= 3 &&
      (segs[1] != "plugins" || segs.size() == 2)) {
    auto schema = entitySchema(segs[1]);
    if (!schema) return messageResponse(404, "No entity named '" + segs[1] + "'");
    if (segs.size() == 2) return get ? jsonResponse(200, *schema) : messageResponse(405, "Method not allowed");
    if (segs[2] != "validate") return messageResponse(404, "Not found");
    if (req.method != "POST") return messageResponse(405, "Method not allowed");
    return validateEntity(ctx, req, segs[1]);
  }
  if (segs.size() == 2 && segs[0] == "status" && segs[1] == "ready" && req.method == "POST") {
    auto body = parseRequestBody(req.body, req.contentType);
    if (!body) return messageResponse(400, body.errors().front().message);
    auto* status = body->fields.if_contains("status");
    if (!status || !status->is_string()) return messageResponse(400, "status: required field missing");
    const std::string_view s = status->as_string();
    if (s == "draining") {
      ctx.draining->store(true);
    } else if (s == "ready") {
      ctx.draining->store(false);
    } else {
      return messageResponse(400, "status: expected one of: draining, ready");
    }
    return AdminResponse{204, ""};
  }
  if (auto r = foreignEntity(req, segs, cfg)) return r;
  if (auto r = setHealth(ctx, req, segs, cfg)) return r;
  return std::nullopt;
}

}  // namespace archway::admin
