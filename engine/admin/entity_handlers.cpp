#include "admin/entity_handlers.h"

#include <boost/json/serialize.hpp>
#include <chrono>

#include "admin/request_body.h"
#include "config/entity_json.h"
#include "config/json_shapes.h"
#include "core/uuid.h"

namespace archway::admin {
namespace json = boost::json;

AdminResponse jsonResponse(int status, const json::value& body) {
  return {status, json::serialize(body)};
}

AdminResponse messageResponse(int status, std::string_view message) {
  return jsonResponse(status, json::object{{"message", message}});
}

namespace {

struct PathPart {
  std::string name;  // empty for an index
  std::size_t index = 0;
};

std::vector<PathPart> splitPath(const std::string& path) {
  std::vector<PathPart> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back({cur, 0});
    cur.clear();
  };
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '.') {
      flush();
    } else if (path[i] == '[') {
      flush();
      auto close = path.find(']', i);
      if (close == std::string::npos) break;
      try {
        out.push_back({"", std::stoul(path.substr(i + 1, close - i - 1))});
      } catch (...) {
      }
      i = close;
    } else {
      cur += path[i];
    }
  }
  flush();
  return out;
}

// Kong names array elements 1-based with dots: "paths[0]" -> "paths.1".
std::string kongPath(const std::string& path) {
  std::string out;
  for (const auto& p : splitPath(path)) {
    if (!out.empty()) out += '.';
    out += p.name.empty() ? std::to_string(p.index + 1) : p.name;
  }
  return out;
}

void place(json::value& node, const std::vector<PathPart>& parts, std::size_t i,
           const std::string& message) {
  if (i == parts.size()) {
    if (node.is_null()) node = json::string(message);
    return;
  }
  const auto& p = parts[i];
  if (p.name.empty()) {
    if (!node.is_array()) node = json::array{};
    auto& a = node.as_array();
    if (p.index > 10000) return;
    while (a.size() <= p.index) a.push_back(nullptr);
    place(a[p.index], parts, i + 1, message);
  } else {
    if (!node.is_object()) node = json::object{};
    place(node.as_object()[p.name], parts, i + 1, message);
  }
}

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double nowMillisAsSeconds() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<double>(ms) / 1000.0;
}

AdminResponse notFound() {
  return messageResponse(404, "Not found");
}

AdminResponse uniqueViolation(std::string_view field, const std::string& value) {
  return jsonResponse(
      409, json::object{{"code", 5},
                        {"name", "unique constraint violation"},
                        {"message", "UNIQUE violation detected on '{" + std::string(field) + "=\"" +
                                        value + "\"}'"},
                        {"fields", json::object{{field, value}}}});
}

AdminResponse primaryKeyViolation(const std::string& id) {
  return jsonResponse(
      400, json::object{{"code", 3},
                        {"name", "primary key violation"},
                        {"message", "primary key violation on key '{id=\"" + id + "\"}'"},
                        {"fields", json::object{{"id", id}}}});
}

AdminResponse foreignKeyMissing(std::string_view field, std::string_view entity,
                                const std::string& ref) {
  const std::string key = core::isUuid(ref) ? "id" : "name";
  return jsonResponse(400,
                      json::object{{"code", 4},
                                   {"name", "foreign key violation"},
                                   {"message", "the foreign key '{" + key + "=\"" + ref +
                                                   "\"}' does not reference an existing '" +
                                                   std::string(entity) + "' entity."},
                                   {"fields", json::object{{field, json::object{{key, ref}}}}}});
}

// Errors from apply() are about the whole config ("routes[3].name: UNIQUE ..."): a unique
// violation keeps Kong's 409, anything else is a schema violation on the entity's fields.
AdminResponse applyFailure(const core::Errors& errors) {
  for (const auto& e : errors) {
    auto at = e.message.find("UNIQUE violation detected on '{");
    if (at != std::string::npos) {
      auto eq = e.message.find("=\"", at);
      auto end = e.message.rfind("\"}'");
      std::string field = e.message.substr(at + 31, eq - at - 31);
      std::string value = e.message.substr(eq + 2, end - eq - 2);
      return uniqueViolation(field, value);
    }
  }
  core::Errors relative;
  for (const auto& e : errors) {
    auto parts = splitPath(e.path);
    std::string tail;
    // Strip the collection index ("routes[3].") so fields name the entity's own fields.
    if (parts.size() >= 2 && parts[1].name.empty()) {
      auto dot = e.path.find("].");
      tail = dot == std::string::npos ? std::string() : e.path.substr(dot + 2);
    } else {
      tail = e.path;
    }
    relative.push_back({tail, e.message});
  }
  return schemaViolation(relative);
}

// Form values are strings; Kong's schema turns a single value into a one-element array.
void coerceFormArrays(json::object& body, std::initializer_list<std::string_view> fields) {
  for (auto f : fields) {
    auto it = body.find(f);
    if (it != body.end() && it->value().is_string()) it->value() = json::array{it->value()};
  }
}

const std::initializer_list<std::string_view> kRouteArrays = {"protocols", "methods", "hosts",
                                                              "paths",     "tags",    "snis"};

// PATCH: the stored entity with the body's fields on top. Records (healthchecks) merge
// deeply, as Kong merges record fields; everything else is replaced.
json::object mergePatch(json::object base, const json::object& patch) {
  for (const auto& [k, v] : patch) {
    auto it = base.find(k);
    if (it != base.end() && it->value().is_object() && v.is_object() && k == "healthchecks") {
      std::function<void(json::object&, const json::object&)> deep = [&](json::object& dst,
                                                                         const json::object& src) {
        for (const auto& [sk, sv] : src) {
          auto di = dst.find(sk);
          if (di != dst.end() && di->value().is_object() && sv.is_object())
            deep(di->value().as_object(), sv.as_object());
          else
            dst[sk] = sv;
        }
      };
      deep(it->value().as_object(), v.as_object());
    } else {
      base[k] = v;
    }
  }
  return base;
}

template <class Entity>
const Entity* byIdOrName(const std::vector<Entity>& all, const std::string& key) {
  for (const auto& e : all) {
    if (e.id == key) return &e;
  }
  for (const auto& e : all) {
    if constexpr (std::is_same_v<decltype(e.name), std::string>) {
      if (e.name == key) return &e;
    } else {
      if (e.name && *e.name == key) return &e;
    }
  }
  return nullptr;
}

std::string nameOf(const core::Service& s) {
  return s.name.value_or("");
}
std::string nameOf(const core::Route& r) {
  return r.name.value_or("");
}
std::string nameOf(const core::Upstream& u) {
  return u.name;
}

void setName(core::Service& s, const std::string& n) {
  s.name = n;
}
void setName(core::Route& r, const std::string& n) {
  r.name = n;
}
void setName(core::Upstream& u, const std::string& n) {
  u.name = n;
}

std::vector<core::Service>& listOf(core::Config& c, const core::Service*) {
  return c.services;
}
std::vector<core::Route>& listOf(core::Config& c, const core::Route*) {
  return c.routes;
}
std::vector<core::Upstream>& listOf(core::Config& c, const core::Upstream*) {
  return c.upstreams;
}
template <class Entity>
const std::vector<Entity>& listOf(const core::Config& c, const Entity* tag) {
  return listOf(const_cast<core::Config&>(c), tag);  // read-only view of the same member
}

core::Result<core::Service> fromJson(const json::object& o, const core::Service*) {
  return config::serviceFromJson(o);
}
core::Result<core::Route> fromJson(const json::object& o, const core::Route*) {
  return config::routeFromJson(o);
}
core::Result<core::Upstream> fromJson(const json::object& o, const core::Upstream*) {
  return config::upstreamFromJson(o);
}

// Resolves a route body's `service` ({"id":..}, {"name":..} or a bare id/name). Returns the
// service id, nullopt for an explicit null, or an error response.
struct ServiceRef {
  bool present = false;
  std::optional<std::string> id;
  std::optional<AdminResponse> error;
};

ServiceRef resolveService(const core::Config& cfg, const json::object& body) {
  ServiceRef out;
  auto it = body.find("service");
  if (it == body.end()) return out;
  out.present = true;
  const json::value& v = it->value();
  if (v.is_null()) return out;
  std::string ref;
  if (v.is_string()) {
    ref = std::string(v.as_string());
  } else if (v.is_object() && v.as_object().contains("id") && v.as_object().at("id").is_string()) {
    ref = std::string(v.as_object().at("id").as_string());
  } else if (v.is_object() && v.as_object().contains("name") &&
             v.as_object().at("name").is_string()) {
    ref = std::string(v.as_object().at("name").as_string());
  } else if (v.is_object() && v.as_object().empty()) {
    return out;
  } else {
    out.error = schemaViolation({{"service", "expected a record with id or name"}});
    return out;
  }
  const core::Service* s = byIdOrName(cfg.services, ref);
  if (!s) {
    out.error = foreignKeyMissing("service", "services", ref);
    return out;
  }
  out.id = s->id;
  return out;
}

struct Writer {
  const AdminContext& ctx;
  std::shared_ptr<const core::Config> current;

  // Applies `next` and answers with the entity `id` of `Entity` as stored.
  template <class Entity>
  AdminResponse commit(core::Config next, const std::string& id, int status) const {
    if (!ctx.apply) return messageResponse(405, "cannot change the configuration of this node");
    auto applied = ctx.apply(std::move(next));
    if (!applied) return applyFailure(applied.errors());
    auto now = ctx.config ? ctx.config() : nullptr;
    if (!now) return messageResponse(500, "An unexpected error occurred");
    const Entity* tag = nullptr;
    for (const auto& e : listOf(*now, tag)) {
      if (e.id == id) return jsonResponse(status, config::toJson(e));
    }
    return messageResponse(500, "An unexpected error occurred");
  }

  AdminResponse commitTarget(core::Config next, const std::string& id, int status = 201) const {
    if (!ctx.apply) return messageResponse(405, "cannot change the configuration of this node");
    auto applied = ctx.apply(std::move(next));
    if (!applied) return applyFailure(applied.errors());
    auto now = ctx.config ? ctx.config() : nullptr;
    if (now) {
      for (const auto& t : now->targets) {
        if (t.id == id) return jsonResponse(status, config::toJson(t));
      }
    }
    return messageResponse(500, "An unexpected error occurred");
  }

  AdminResponse commitDelete(core::Config next) const {
    if (!ctx.apply) return messageResponse(405, "cannot change the configuration of this node");
    auto applied = ctx.apply(std::move(next));
    if (!applied) return applyFailure(applied.errors());
    return {204, ""};
  }

  // POST (key empty), PUT (key = id or name, upsert) and PATCH (key, existing required).
  // `fixedService` forces a route's service (nested endpoints).
  template <class Entity>
  AdminResponse write(std::string_view method, const std::string& key, ParsedBody body,
                      const std::optional<std::string>& fixedService = std::nullopt) const {
    const Entity* tag = nullptr;
    constexpr bool isRoute = std::is_same_v<Entity, core::Route>;
    constexpr bool isService = std::is_same_v<Entity, core::Service>;
    json::object fields = std::move(body.fields);
    if (body.kind == BodyKind::form) {
      if constexpr (isRoute) coerceFormArrays(fields, kRouteArrays);
      if constexpr (isService) coerceFormArrays(fields, {"ca_certificates"});
      coerceFormArrays(fields, {"tags"});
    }
    core::Config next = *current;
    auto& list = listOf(next, tag);
    const Entity* existing = key.empty() ? nullptr : byIdOrName(listOf(*current, tag), key);
    if (method == "PATCH" && !existing) return notFound();

    std::optional<std::string> serviceId;
    if constexpr (isRoute) {
      if (fixedService) {
        fields.erase("service");
        serviceId = fixedService;
      } else {
        ServiceRef ref = resolveService(*current, fields);
        if (ref.error) return *ref.error;
        if (ref.present)
          serviceId = ref.id;
        else if (method == "PATCH")
          serviceId = existing->serviceId;
      }
    }

    json::object input;
    if (method == "PATCH") {
      json::object base = config::toJson(*existing);
      if constexpr (isService) {
        if (fields.contains("url")) {
          for (auto k : {"protocol", "host", "port", "path"}) base.erase(k);
        }
      }
      input = mergePatch(std::move(base), fields);
    } else {
      input = std::move(fields);
    }
    const bool bodyHasId = input.contains("id") && !input.at("id").is_null();
    if (!bodyHasId) input.erase("id");
    auto parsed = fromJson(input, tag);
    if (!parsed) return schemaViolation(parsed.errors());
    Entity e = std::move(parsed.value());
    if constexpr (isService || std::is_same_v<Entity, core::Upstream>) {
      if (e.clientCertificate &&
          std::none_of(current->certificates.begin(), current->certificates.end(),
                       [&](const core::Certificate& c) { return c.id == *e.clientCertificate; }))
        return foreignKeyMissing("client_certificate", "certificates", *e.clientCertificate);
    }

    const std::int64_t now = nowSeconds();
    if (method == "POST") {
      if (!bodyHasId) e.id = core::uuid4();
      for (const auto& x : list) {
        if (x.id == e.id) return primaryKeyViolation(e.id);
      }
      e.createdAt = e.updatedAt = now;
    } else if (method == "PUT") {
      if (existing) {
        e.id = existing->id;
        e.createdAt = existing->createdAt;
      } else if (core::isUuid(key)) {
        e.id = key;
        e.createdAt = now;
      } else {
        e.id = bodyHasId ? e.id : core::uuid4();
        e.createdAt = now;
      }
      if (!core::isUuid(key)) setName(e, key);
      e.updatedAt = now;
    } else {  // PATCH
      e.id = existing->id;
      e.createdAt = existing->createdAt;
      e.updatedAt = now;
    }
    if constexpr (isRoute) e.serviceId = serviceId;

    const std::string name = nameOf(e);
    if (!name.empty()) {
      for (const auto& other : list) {
        if (other.id != e.id && nameOf(other) == name) return uniqueViolation("name", name);
      }
    }
    auto at = std::find_if(list.begin(), list.end(), [&](const Entity& x) { return x.id == e.id; });
    if (at != list.end())
      *at = e;
    else
      list.push_back(e);
    return commit<Entity>(std::move(next), e.id, method == "POST" ? 201 : 200);
  }
};

std::optional<AdminResponse> bodyError(const core::Result<ParsedBody>& b) {
  if (b) return std::nullopt;
  return messageResponse(400, b.errors().front().message);
}

}  // namespace

AdminResponse applyFailureResponse(const core::Errors& errors) { return applyFailure(errors); }
AdminResponse uniqueViolationResponse(std::string_view field, const std::string& value) {
  return uniqueViolation(field, value);
}
AdminResponse primaryKeyViolationResponse(const std::string& id) {
  return primaryKeyViolation(id);
}
AdminResponse foreignKeyMissingResponse(std::string_view field, std::string_view entity,
                                        const std::string& ref) {
  return foreignKeyMissing(field, entity, ref);
}
void formArrays(json::object& body, std::initializer_list<std::string_view> fields) {
  coerceFormArrays(body, fields);
}

json::object nestedFields(const core::Errors& errors) {
  json::value root = json::object{};
  for (const auto& e : errors) {
    if (e.path.empty()) {
      auto& entity = root.as_object()["@entity"];
      if (!entity.is_array()) entity = json::array{};
      entity.as_array().push_back(json::string(e.message));
      continue;
    }
    place(root, splitPath(e.path), 0, e.message);
  }
  return root.as_object();
}

AdminResponse schemaViolation(const core::Errors& errors) {
  std::string detail;
  for (const auto& e : errors) {
    if (!detail.empty()) detail += "; ";
    detail += e.path.empty() ? e.message : kongPath(e.path) + ": " + e.message;
  }
  std::string message = errors.size() == 1
                            ? "schema violation (" + detail + ")"
                            : std::to_string(errors.size()) + " schema violations (" + detail + ")";
  return jsonResponse(400, json::object{{"code", 2},
                                        {"name", "schema violation"},
                                        {"message", message},
                                        {"fields", nestedFields(errors)}});
}

std::optional<AdminResponse> handleEntityWrite(const AdminContext& ctx, const AdminRequest& req,
                                               const std::vector<std::string>& segs) {
  const std::string_view m = req.method;
  const bool post = m == "POST", put = m == "PUT", patch = m == "PATCH", del = m == "DELETE";
  if (!(post || put || patch || del) || segs.empty()) return std::nullopt;
  auto cfgPtr = ctx.config ? ctx.config() : nullptr;
  if (!cfgPtr) cfgPtr = std::make_shared<const core::Config>();
  const core::Config& cfg = *cfgPtr;
  Writer w{ctx, cfgPtr};
  auto body = [&]() { return parseRequestBody(req.body, req.contentType); };
  const std::string& kind = segs[0];

  if (kind == "services" || kind == "routes" || kind == "upstreams") {
    // Collections: POST only.
    if (segs.size() == 1) {
      if (!post) return std::nullopt;
      auto b = body();
      if (auto e = bodyError(b)) return e;
      if (kind == "services") return w.write<core::Service>(m, "", std::move(b.value()));
      if (kind == "routes") return w.write<core::Route>(m, "", std::move(b.value()));
      return w.write<core::Upstream>(m, "", std::move(b.value()));
    }
    const std::string& key = segs[1];
    if (segs.size() == 2) {
      if (post) return std::nullopt;
      if (del) {
        core::Config next = cfg;
        if (kind == "services") {
          const core::Service* s = byIdOrName(cfg.services, key);
          if (!s) return AdminResponse{204, ""};
          for (const auto& r : cfg.routes) {
            if (r.serviceId == s->id) {
              return jsonResponse(
                  400, json::object{{"code", 4},
                                    {"name", "foreign key violation"},
                                    {"message",
                                     "an existing 'routes' entity references this 'services' "
                                     "entity"},
                                    {"fields", json::object{{"@referenced_by", "routes"}}}});
            }
          }
          std::erase_if(next.services, [&](const core::Service& x) { return x.id == s->id; });
          // Plugins cascade with their service (plugins.lua: on_delete = "cascade").
          std::erase_if(next.plugins, [&](const core::Plugin& p) { return p.serviceId == s->id; });
        } else if (kind == "routes") {
          const core::Route* r = byIdOrName(cfg.routes, key);
          if (!r) return AdminResponse{204, ""};
          std::erase_if(next.routes, [&](const core::Route& x) { return x.id == r->id; });
          std::erase_if(next.plugins, [&](const core::Plugin& p) { return p.routeId == r->id; });
        } else {
          const core::Upstream* u = byIdOrName(cfg.upstreams, key);
          if (!u) return AdminResponse{204, ""};
          const std::string id = u->id;
          std::erase_if(next.upstreams, [&](const core::Upstream& x) { return x.id == id; });
          // Targets cascade with their upstream (targets.lua: on_delete = "cascade").
          std::erase_if(next.targets, [&](const core::Target& t) { return t.upstreamId == id; });
        }
        return w.commitDelete(std::move(next));
      }
      auto b = body();
      if (auto e = bodyError(b)) return e;
      if (kind == "services") return w.write<core::Service>(m, key, std::move(b.value()));
      if (kind == "routes") return w.write<core::Route>(m, key, std::move(b.value()));
      return w.write<core::Upstream>(m, key, std::move(b.value()));
    }
    // /services/{s}/routes[/{r}]
    if (kind == "services" && segs[2] == "routes" && segs.size() <= 4) {
      const core::Service* s = byIdOrName(cfg.services, key);
      if (segs.size() == 3) {
        if (!post) return std::nullopt;
        if (!s) return notFound();
        auto b = body();
        if (auto e = bodyError(b)) return e;
        return w.write<core::Route>(m, "", std::move(b.value()), s->id);
      }
      if (post) return std::nullopt;
      // Kong's nested entity endpoints (kong/api/endpoints.lua) answer 404 when the parent or
      // the child is missing, or the child is not the parent's, also on DELETE.
      if (!s) return notFound();
      const core::Route* r = byIdOrName(cfg.routes, segs[3]);
      const bool belongs = r && r->serviceId == s->id;
      if (del) {
        if (!belongs) return notFound();
        core::Config next = cfg;
        std::erase_if(next.routes, [&](const core::Route& x) { return x.id == r->id; });
        std::erase_if(next.plugins, [&](const core::Plugin& p) { return p.routeId == r->id; });
        return w.commitDelete(std::move(next));
      }
      if (r && !belongs) return notFound();
      auto b = body();
      if (auto e = bodyError(b)) return e;
      return w.write<core::Route>(m, segs[3], std::move(b.value()), s->id);
    }
    // /upstreams/{u}/targets[/{t}]
    if (kind == "upstreams" && segs[2] == "targets" && segs.size() <= 4) {
      const core::Upstream* u = byIdOrName(cfg.upstreams, key);
      if (segs.size() == 3) {
        if (!post) return std::nullopt;
        if (!u) return notFound();
        auto b = body();
        if (auto e = bodyError(b)) return e;
        json::object fields = std::move(b->fields);
        if (b->kind == BodyKind::form) coerceFormArrays(fields, {"tags"});
        const bool bodyHasId = fields.contains("id") && !fields.at("id").is_null();
        if (!bodyHasId) fields.erase("id");
        auto parsed = config::targetFromJson(fields);
        if (!parsed) return schemaViolation(parsed.errors());
        core::Target t = std::move(parsed.value());
        t.upstreamId = u->id;
        if (!bodyHasId) t.id = core::uuid4();
        t.createdAt = t.updatedAt = nowMillisAsSeconds();
        for (const auto& other : cfg.targets) {
          if (other.id == t.id) return primaryKeyViolation(t.id);
          if (other.upstreamId == u->id && other.target == t.target)
            return uniqueViolation("target", t.target);
        }
        core::Config next = cfg;
        next.targets.push_back(t);
        return w.commitTarget(std::move(next), t.id);
      }
      std::string want = segs[3];
      const std::string withPort = want.find(':') == std::string::npos ? want + ":8000" : want;
      if (patch || put) {
        if (!u) return notFound();
        const core::Target* old = nullptr;
        for (const auto& t : cfg.targets)
          if (t.upstreamId == u->id && (t.id == want || t.target == want || t.target == withPort))
            old = &t;
        if (!old) return notFound();
        auto b = body();
        if (auto e = bodyError(b)) return e;
        json::object fields = std::move(b->fields);
        if (b->kind == BodyKind::form) coerceFormArrays(fields, {"tags"});
        json::object input;
        if (patch) {
          input = config::toJson(*old);
          for (const auto& [k, v] : fields) input[k] = v;
        } else {
          input = std::move(fields);
        }
        for (const char* f : {"id", "upstream", "created_at", "updated_at"}) input.erase(f);
        auto parsed = config::targetFromJson(input);
        if (!parsed) return schemaViolation(parsed.errors());
        core::Target t = std::move(parsed.value());
        t.id = old->id;
        t.upstreamId = u->id;
        t.createdAt = old->createdAt;
        t.updatedAt = nowMillisAsSeconds();
        for (const auto& other : cfg.targets) {
          if (other.id != t.id && other.upstreamId == u->id && other.target == t.target)
            return uniqueViolation("target", t.target);
        }
        core::Config next = cfg;
        for (auto& x : next.targets)
          if (x.id == t.id) x = t;
        return w.commitTarget(std::move(next), t.id, 200);
      }
      if (!del) return std::nullopt;
      if (!u) return AdminResponse{204, ""};
      core::Config next = cfg;
      auto before = next.targets.size();
      std::erase_if(next.targets, [&](const core::Target& t) {
        return t.upstreamId == u->id && (t.id == want || t.target == want || t.target == withPort);
      });
      if (next.targets.size() == before) return AdminResponse{204, ""};
      return w.commitDelete(std::move(next));
    }
  }
  return std::nullopt;
}

}  // namespace archway::admin
