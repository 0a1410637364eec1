#include "admin/plugin_handlers.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <chrono>

#include "admin/entity_handlers.h"
#include "admin/handler_base.h"
#include "admin/paging.h"
#include "admin/request_body.h"
#include "config/declarative.h"
#include "config/json_shapes.h"
#include "core/uuid.h"
#include "plugins/chain.h"
#include "plugins/proxy_cache/memory_cache.h"
#include "plugins/registry.h"

namespace archway::admin {
namespace json = boost::json;

namespace {

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AdminResponse notFound() { return messageResponse(404, "Not found"); }

// Declarative errors carry the document path; the Admin API names the entity's own fields.
core::Errors relative(const core::Errors& errors, std::string_view prefix) {
  core::Errors out;
  for (auto e : errors) {
    if (e.path == prefix) {
      e.path.clear();
    } else if (e.path.rfind(prefix, 0) == 0 && e.path.size() > prefix.size() &&
               e.path[prefix.size()] == '.') {
      e.path = e.path.substr(prefix.size() + 1);
    }
    out.push_back(std::move(e));
  }
  return out;
}

core::Result<core::Config> parseDoc(json::object doc) {
  doc["_format_version"] = "3.0";
  return config::parseDeclarative(json::serialize(doc));
}

// ---- credentials: one table of what differs between the four kinds ----
struct CredentialKind {
  std::string_view path;        // "key-auth"
  std::string_view collection;  // "key-auths"
  std::string_view yamlKey;     // "keyauth_credentials"
  std::string_view naturalKey;  // "key": also finds a credential by that field
};
constexpr CredentialKind kKinds[] = {
    {"key-auth", "key-auths", "keyauth_credentials", "key"},
    {"basic-auth", "basic-auths", "basicauth_credentials", "username"},
    {"jwt", "jwts", "jwt_secrets", "key"},
    {"acls", "acls", "acls", "group"},
};

const CredentialKind* kindByPath(std::string_view p) {
  for (const auto& k : kKinds)
    if (k.path == p) return &k;
  return nullptr;
}
const CredentialKind* kindByCollection(std::string_view p) {
  for (const auto& k : kKinds)
    if (k.collection == p) return &k;
  return nullptr;
}

// The credentials of one kind as rows (id, consumer id, natural key, tags) viewing the config
// they come from (which must outlive them); the JSON shape is rendered only for the rows an
// answer shows, so a page of 100 costs 100 renderings, not one per credential of the node.
struct CredRow {
  std::string_view id, consumerId, natural;
  const std::vector<std::string>* tags;
  json::object (*render)(const void* entity);
  const void* entity;
  json::object json() const { return render(entity); }
};
template <class T>
CredRow credRow(const T& x, std::string_view natural) {
  return {x.id, x.consumerId, natural, &x.tags,
          [](const void* e) { return config::toJson(*static_cast<const T*>(e)); }, &x};
}
// The credentials of one kind in the config's order, read in place: a page of 100 out of 10^6
// looks at 100 of them, and finding one compares in place instead of copying every row first.
class CredList {
 public:
  CredList(const core::Config& c, const CredentialKind& k) {
    if (k.yamlKey == "keyauth_credentials") keyAuth_ = &c.keyauthCredentials;
    if (k.yamlKey == "basicauth_credentials") basicAuth_ = &c.basicauthCredentials;
    if (k.yamlKey == "jwt_secrets") jwt_ = &c.jwtSecrets;
    if (k.yamlKey == "acls") acls_ = &c.acls;
  }
  std::size_t size() const {
    return keyAuth_     ? keyAuth_->size()
           : basicAuth_ ? basicAuth_->size()
           : jwt_       ? jwt_->size()
           : acls_      ? acls_->size()
                        : 0;
  }
  CredRow operator[](std::size_t i) const {
    if (keyAuth_) return credRow((*keyAuth_)[i], (*keyAuth_)[i].key);
    if (basicAuth_) return credRow((*basicAuth_)[i], (*basicAuth_)[i].username);
    if (jwt_) return credRow((*jwt_)[i], (*jwt_)[i].key);
    return credRow((*acls_)[i], (*acls_)[i].group);
  }

 private:
  const std::vector<core::KeyAuthCredential>* keyAuth_ = nullptr;
  const std::vector<core::BasicAuthCredential>* basicAuth_ = nullptr;
  const std::vector<core::JwtSecret>* jwt_ = nullptr;
  const std::vector<core::AclGroup>* acls_ = nullptr;
};

// Kong's endpoint key among `rows` (a CredList or a vector of rows): the row whose id is `key`
// (a UUID), else the first whose natural key is.
template <class Rows>
std::optional<CredRow> findCredential(const Rows& rows, std::string_view key) {
  const std::size_t n = rows.size();
  if (core::isUuid(key))
    for (std::size_t i = 0; i < n; ++i)
      if (CredRow r = rows[i]; r.id == key) return r;
  for (std::size_t i = 0; i < n; ++i)
    if (CredRow r = rows[i]; r.natural == key) return r;
  return std::nullopt;
}

// Those of one consumer (a handful), in the config's order.
std::vector<CredRow> consumerCredentials(const core::Config& c, const CredentialKind& k,
                                         std::string_view consumerId) {
  CredList all(c, k);
  std::vector<CredRow> rows;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (auto r = all[i]; r.consumerId == consumerId) rows.push_back(r);
  return rows;
}

void eraseCredential(core::Config& c, const CredentialKind& k, const std::string& id) {
  auto pred = [&](const auto& x) { return x.id == id; };
  if (k.yamlKey == "keyauth_credentials") std::erase_if(c.keyauthCredentials, pred);
  if (k.yamlKey == "basicauth_credentials") std::erase_if(c.basicauthCredentials, pred);
  if (k.yamlKey == "jwt_secrets") std::erase_if(c.jwtSecrets, pred);
  if (k.yamlKey == "acls") std::erase_if(c.acls, pred);
}

// Parses one credential for `consumer` with the declarative parser (so kong.yml and the Admin
// API accept the same fields) and appends it to `next`.
core::Result<std::string> addCredential(core::Config& next, const CredentialKind& k,
                                        const core::Consumer& consumer, json::object body) {
  body.erase("consumer");
  // The placeholder carries the real consumer id so basic-auth hashes with it.
  json::object owner{{"id", consumer.id},
                     {"username", "archway-placeholder"},
                     {std::string(k.yamlKey), json::array{std::move(body)}}};
  auto parsed = parseDoc(json::object{{"consumers", json::array{std::move(owner)}}});
  const std::string prefix = "consumers[0]." + std::string(k.yamlKey) + "[0]";
  if (!parsed) return relative(parsed.errors(), prefix);
  const core::Config& p = *parsed;
  std::string id;
  auto take = [&](auto& dst, const auto& src) {
    auto x = src.front();
    x.consumerId = consumer.id;
    x.createdAt = nowSeconds();
    id = x.id;
    dst.push_back(std::move(x));
  };
  if (!p.keyauthCredentials.empty()) take(next.keyauthCredentials, p.keyauthCredentials);
  if (!p.basicauthCredentials.empty()) take(next.basicauthCredentials, p.basicauthCredentials);
  if (!p.jwtSecrets.empty()) take(next.jwtSecrets, p.jwtSecrets);
  if (!p.acls.empty()) take(next.acls, p.acls);
  return id;
}

// Kong's endpoint key: a UUID is looked up as an id, then (as anything else) as a username.
// One pass each over the consumers; a name never walks the ids.
const core::Consumer* consumerByKey(const core::Config& c, const std::string& key) {
  if (core::isUuid(key))
    for (const auto& x : c.consumers)
      if (x.id == key) return &x;
  for (const auto& x : c.consumers)
    if (x.username && *x.username == key) return &x;
  return nullptr;
}

// A body's reference to a route/service/consumer: "x", {"id": "x"} or {"name": "x"}.
std::optional<std::string> refOf(const json::object& body, std::string_view field) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) return std::nullopt;
  const auto& v = it->value();
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_object()) {
    for (const char* k : {"id", "name", "username"}) {
      if (auto f = v.as_object().find(k); f != v.as_object().end() && f->value().is_string())
        return std::string(f->value().as_string());
    }
  }
  return std::string();
}

class Handler : public HandlerBase {
 public:
  using HandlerBase::HandlerBase;

  std::optional<AdminResponse> route() {
    const auto& s = segs_;
    if (s.empty()) return std::nullopt;
    const std::string& top = s[0];
    if (top == "consumers") return consumers();
    if (top == "proxy-cache") return proxyCache();
    if (top == "plugins") return plugins(std::nullopt);
    if (top == "schemas" && s.size() >= 2 && s[1] == "plugins") return schemas();
    if (const CredentialKind* k = kindByCollection(top)) return credentialCollection(*k);
    if ((top == "services" || top == "routes") && s.size() >= 3 && s[2] == "plugins") {
      return scopedPlugins(top, s[1]);
    }
    return std::nullopt;
  }

 private:
  AdminResponse methodNotAllowed() const { return messageResponse(405, "Method not allowed"); }

  // ---------------------------------------------------------------- consumers
  std::optional<AdminResponse> consumers() {
    const auto& s = segs_;
    if (s.size() == 1) {
      if (get_) return page(cfg().consumers, "consumers", params_);
      if (method_ != "POST") return methodNotAllowed();
      return writeConsumer(nullptr, "");
    }
    const core::Consumer* c = consumerByKey(cfg(), s[1]);
    if (s.size() == 2) {
      if (get_) return c ? jsonResponse(200, config::toJson(*c)) : notFound();
      if (method_ == "DELETE") {
        if (!c) return AdminResponse{204, ""};
        core::Config next = cfg();
        const std::string id = c->id;
        std::erase_if(next.consumers, [&](const core::Consumer& x) { return x.id == id; });
        // Credentials and consumer plugins cascade with their consumer.
        auto mine = [&](const auto& x) { return x.consumerId == id; };
        std::erase_if(next.keyauthCredentials, mine);
        std::erase_if(next.basicauthCredentials, mine);
        std::erase_if(next.jwtSecrets, mine);
        std::erase_if(next.acls, mine);
        std::erase_if(next.plugins, [&](const core::Plugin& p) { return p.consumerId == id; });
        return commit(std::move(next), 204, [](const core::Config&) { return std::optional<json::object>(); });
      }
      if (method_ == "PATCH") return c ? writeConsumer(c, s[1]) : notFound();
      if (method_ == "PUT") return writeConsumer(c, s[1]);
      return methodNotAllowed();
    }
    if (s[2] == "plugins" && s.size() == 3) {
      if (!c) return notFound();
      return plugins(Scope{std::nullopt, std::nullopt, c->id});
    }
    const CredentialKind* k = kindByPath(s[2]);
    if (!k || s.size() > 4) return notFound();
    if (!c) return notFound();
    return credentials(*k, *c);
  }

  AdminResponse writeConsumer(const core::Consumer* existing, const std::string& key) {
    auto b = body();
    if (!b) return messageResponse(400, b.errors().front().message);
    json::object fields = std::move(b->fields);
    if (b->kind == BodyKind::form) formArrays(fields, {"tags"});
    json::object input = fields;
    if (method_ == "PATCH") {
      input = config::toJson(*existing);
      for (const auto& [k, v] : fields) input[k] = v;
    }
    for (auto it = input.begin(); it != input.end();) {
      if (it->value().is_null())
        it = input.erase(it);
      else
        ++it;
    }
    const bool bodyHasId = fields.contains("id") && !fields.at("id").is_null();
    if (!bodyHasId && method_ != "PATCH") input.erase("id");
    if (method_ == "PUT" && !existing && !core::isUuid(key) && !input.contains("username"))
      input["username"] = key;
    auto parsed = parseDoc(json::object{{"consumers", json::array{input}}});
    if (!parsed) return schemaViolation(relative(parsed.errors(), "consumers[0]"));
    core::Consumer c = parsed->consumers.front();
    stamp(c, existing, bodyHasId, key, nowSeconds());
    for (const auto& other : cfg().consumers) {
      if (other.id == c.id && !existing && method_ == "POST")
        return primaryKeyViolationResponse(c.id);
      if (other.id != c.id && c.username && other.username == c.username)
        return uniqueViolationResponse("username", *c.username);
      if (other.id != c.id && c.customId && other.customId == c.customId)
        return uniqueViolationResponse("custom_id", *c.customId);
    }
    return upsert(cfg(), &core::Config::consumers, std::move(c));
  }

  // ---------------------------------------------------------------- credentials
  std::optional<AdminResponse> credentials(const CredentialKind& k, const core::Consumer& c) {
    const auto& s = segs_;
    auto rows = consumerCredentials(cfg(), k, c.id);
    if (s.size() == 3) {
      if (get_) return pageRows(rows, "consumers/" + c.id + "/" + std::string(k.path));
      if (method_ != "POST") return methodNotAllowed();
      auto b = body();
      if (!b) return messageResponse(400, b.errors().front().message);
      json::object fields = std::move(b->fields);
      if (b->kind == BodyKind::form) formArrays(fields, {"tags"});
      core::Config next = cfg();
      auto added = addCredential(next, k, c, std::move(fields));
      if (!added) return schemaViolation(added.errors());
      return commitCredential(std::move(next), k, *added, 201);
    }
    const std::optional<CredRow> row = findCredential(rows, s[3]);
    if (get_) return row ? jsonResponse(200, row->json()) : notFound();
    if (method_ == "DELETE") {
      if (!row) return notFound();
      core::Config next = cfg();
      eraseCredential(next, k, std::string(row->id));
      return commit(std::move(next), 204, [](const core::Config&) { return std::optional<json::object>(); });
    }
    if (method_ == "PATCH" || method_ == "PUT") {
      if (!row && method_ == "PATCH") return notFound();
      auto b = body();
      if (!b) return messageResponse(400, b.errors().front().message);
      json::object input = method_ == "PATCH" ? row->json() : json::object();
      for (const auto& [key, v] : b->fields) input[key] = v;
      if (row) {
        input["id"] = row->id;
      } else if (core::isUuid(s[3])) {  // PUT creating: under the id of the path...
        input["id"] = s[3];
      } else if (!input.contains(k.naturalKey)) {  // ...or with its endpoint key
        input[k.naturalKey] = s[3];
      }
      input.erase("created_at");
      for (auto it = input.begin(); it != input.end();) {
        if (it->value().is_null())
          it = input.erase(it);
        else
          ++it;
      }
      core::Config next = cfg();
      if (row) eraseCredential(next, k, std::string(row->id));
      auto added = addCredential(next, k, c, std::move(input));
      if (!added) return schemaViolation(added.errors());
      return commitCredential(std::move(next), k, *added, 200);
    }
    return methodNotAllowed();
  }

  AdminResponse commitCredential(core::Config next, const CredentialKind& k, const std::string& id,
                                 int status) const {
    return commit(std::move(next), status, [&](const core::Config& now) -> std::optional<json::object> {
      CredList all(now, k);  // written last: looked for from the end
      for (std::size_t i = all.size(); i-- > 0;)
        if (auto r = all[i]; r.id == id) return r.json();
      return std::nullopt;
    });
  }

  // One page of `all` (a CredList or a vector of rows), filtered by ?tags= when given.
  template <class Rows>
  AdminResponse pageRows(const Rows& all, const std::string& collection) const {
    std::optional<TagFilter> tags;
    if (auto bad = parseTagFilter(params_, tags)) return *bad;
    if (!tags) return credentialPage(all, collection, tags);
    std::vector<CredRow> rows;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (CredRow r = all[i]; tags->matches(*r.tags)) rows.push_back(r);
    return credentialPage(rows, collection, tags);
  }
  template <class Rows>
  AdminResponse credentialPage(const Rows& rows, const std::string& collection,
                     const std::optional<TagFilter>& tags) const {
    std::size_t size = 100, offset = 0;
    for (auto p : params_) {
      if (p.key == "size") {
        try {
          size = std::stoul(std::string(p.value));
        } catch (...) {
          return invalidSize("size must be a number");
        }
        if (size < 1 || size > 1000) return invalidSize("size must be an integer between 1 and 1000");
      } else if (p.key == "offset") {
        try {
          offset = std::stoul(std::string(p.value));
        } catch (...) {
          offset = rows.size();
        }
      }
    }
    json::array data;
    for (std::size_t i = offset; i < rows.size() && data.size() < size; ++i) data.push_back(rows[i].json());
    json::object out{{"data", std::move(data)}};
    if (offset + size < rows.size()) {
      out["offset"] = std::to_string(offset + size);
      out["next"] = "/" + collection + "?offset=" + std::to_string(offset + size) +
                    (tags ? tags->query() : std::string()) + "&size=" + std::to_string(size);
    } else {
      out["next"] = nullptr;
    }
    return jsonResponse(200, out);
  }

  std::optional<AdminResponse> credentialCollection(const CredentialKind& k) {
    const auto& s = segs_;
    if (!get_) return s.size() <= 2 ? std::optional(methodNotAllowed()) : std::nullopt;
    CredList rows(cfg(), k);
    if (s.size() == 1) return pageRows(rows, std::string(k.collection));
    if (s.size() == 2) {
      auto r = findCredential(rows, s[1]);
      return r ? jsonResponse(200, r->json()) : notFound();
    }
    if (s.size() == 3 && s[2] == "consumer") {
      auto r = findCredential(rows, s[1]);
      const auto* c = r ? consumerByKey(cfg(), std::string(r->consumerId)) : nullptr;
      return c ? jsonResponse(200, config::toJson(*c)) : notFound();
    }
    return notFound();
  }

  // ---------------------------------------------------------------- plugins
  struct Scope {
    std::optional<std::string> route, service, consumer;
  };

  std::optional<AdminResponse> scopedPlugins(const std::string& kind, const std::string& key) {
    if (segs_.size() != 3) return notFound();
    if (kind == "services") {
      const core::Service* svc = cfg().findService(key);
      if (!svc) return notFound();
      return plugins(Scope{std::nullopt, svc->id, std::nullopt});
    }
    const core::Route* r = nullptr;
    for (const auto& x : cfg().routes)
      if (x.id == key || (x.name && *x.name == key)) r = &x;
    if (!r) return notFound();
    return plugins(Scope{r->id, std::nullopt, std::nullopt});
  }

  std::optional<AdminResponse> plugins(std::optional<Scope> scope) {
    const auto& s = segs_;
    const bool collection = scope ? true : s.size() == 1;
    if (!scope && s.size() == 2 && s[1] == "enabled") {
      if (!get_) return methodNotAllowed();
      json::array names;
      for (const auto* f : plugins::all()) names.push_back(json::string(f->name()));
      return jsonResponse(200, json::object{{"enabled_plugins", std::move(names)}});
    }
    if (collection) {
      if (get_) {
        std::vector<core::Plugin> list;
        for (const auto& p : cfg().plugins) {
          if (scope && ((scope->route && p.routeId != scope->route) ||
                        (scope->service && p.serviceId != scope->service) ||
                        (scope->consumer && p.consumerId != scope->consumer)))
            continue;
          list.push_back(p);
        }
        std::string path = "plugins";
        if (scope) path = std::string(s[0]) + "/" + s[1] + "/plugins";
        return page(list, path, params_);
      }
      if (method_ != "POST") return methodNotAllowed();
      return writePlugin(nullptr, "", scope);
    }
    if (s.size() != 2) return notFound();
    const core::Plugin* p = nullptr;
    for (const auto& x : cfg().plugins)
      if (x.id == s[1] || (x.instanceName && *x.instanceName == s[1])) p = &x;
    if (get_) return p ? jsonResponse(200, config::toJson(*p)) : notFound();
    if (method_ == "DELETE") {
      if (!p) return AdminResponse{204, ""};
      core::Config next = cfg();
      const std::string id = p->id;
      std::erase_if(next.plugins, [&](const core::Plugin& x) { return x.id == id; });
      return commit(std::move(next), 204, [](const core::Config&) { return std::optional<json::object>(); });
    }
    if (method_ == "PATCH") return p ? writePlugin(p, s[1], std::nullopt) : notFound();
    if (method_ == "PUT") return writePlugin(p, s[1], std::nullopt);
    return methodNotAllowed();
  }

  AdminResponse writePlugin(const core::Plugin* existing, const std::string& key,
                            const std::optional<Scope>& scope) {
    auto b = body();
    if (!b) return messageResponse(400, b.errors().front().message);
    json::object fields = std::move(b->fields);
    const bool form = b->kind == BodyKind::form;
    if (form) formArrays(fields, {"tags", "protocols"});
    json::object input;
    if (method_ == "PATCH") {
      input = config::toJson(*existing);
      for (const auto& [k, v] : fields) {
        // config merges field by field, as Kong merges records
        if (k == "config" && v.is_object() && input["config"].is_object()) {
          for (const auto& [ck, cv] : v.as_object()) input["config"].as_object()[ck] = cv;
        } else {
          input[k] = v;
        }
      }
    } else {
      input = fields;
    }
    // References: the body's (resolved against the live config) or the nested path's.
    core::Plugin refs;
    if (existing) {
      refs.routeId = existing->routeId;
      refs.serviceId = existing->serviceId;
      refs.consumerId = existing->consumerId;
    }
    for (const char* f : {"route", "service", "consumer"}) {
      if (!fields.contains(f)) continue;
      auto ref = refOf(fields, f);
      std::optional<std::string>& dst = std::string_view(f) == "route"     ? refs.routeId
                                        : std::string_view(f) == "service" ? refs.serviceId
                                                                           : refs.consumerId;
      if (!ref) {
        dst.reset();
        continue;
      }
      if (ref->empty()) return schemaViolation({{f, "expected a record with id or name"}});
      std::optional<std::string> found;
      if (std::string_view(f) == "route") {
        for (const auto& r : cfg().routes)
          if (r.id == *ref || (r.name && *r.name == *ref)) found = r.id;
      } else if (std::string_view(f) == "service") {
        if (const auto* svc = cfg().findService(*ref)) found = svc->id;
      } else if (const auto* c = consumerByKey(cfg(), *ref)) {
        found = c->id;
      }
      if (!found) return foreignKeyMissingResponse(f, std::string(f) + "s", *ref);
      dst = found;
    }
    if (scope) {
      if (scope->route) refs.routeId = scope->route;
      if (scope->service) refs.serviceId = scope->service;
      if (scope->consumer) refs.consumerId = scope->consumer;
    }
    input.erase("route");
    input.erase("service");
    input.erase("consumer");
    input.erase("ordering");
    input.erase("created_at");
    input.erase("updated_at");
    for (auto it = input.begin(); it != input.end();) {
      if (it->value().is_null() && it->key() != "config")
        it = input.erase(it);
      else
        ++it;
    }
    const bool bodyHasId = fields.contains("id") && !fields.at("id").is_null();
    if (!bodyHasId) input.erase("id");
    // Form values are strings: the plugin's schema types them before the parser sees them.
    if (form && input.contains("name") && input.at("name").is_string()) {
      const std::string name(input.at("name").as_string());
      if (plugins::find(name)) {
        json::value conf = input.contains("config") ? input.at("config") : json::value();
        auto typed = plugins::validateConfig(name, conf, "config", true);
        if (!typed) return schemaViolation(typed.errors());
        input["config"] = json::parse(*typed);
      }
    }
    if (input.contains("name") && input.at("name").is_string() &&
        !plugins::find(std::string(input.at("name").as_string()))) {
      const std::string name(input.at("name").as_string());
      return schemaViolation(
          {{"name", "plugin '" + name + "' not enabled; add it to the 'plugins' configuration property"}});
    }
    auto parsed = parseDoc(json::object{{"plugins", json::array{input}}});
    if (!parsed) return schemaViolation(relative(parsed.errors(), "plugins[0]"));
    core::Plugin p = parsed->plugins.front();
    p.routeId = refs.routeId;
    p.serviceId = refs.serviceId;
    p.consumerId = refs.consumerId;
    stamp(p, existing, bodyHasId, key, nowSeconds());
    if (!existing && method_ == "POST" &&
        std::any_of(cfg().plugins.begin(), cfg().plugins.end(),
                    [&](const core::Plugin& x) { return x.id == p.id; }))
      return primaryKeyViolationResponse(p.id);
    return upsert(cfg(), &core::Config::plugins, std::move(p));
  }

  // ---------------------------------------------------------------- proxy-cache
  // Kong's proxy-cache Admin API (kong/plugins/proxy-cache/api.lua).
  std::optional<AdminResponse> proxyCache() {
    const auto& s = segs_;
    if (!ctx_.pluginState) return messageResponse(404, "Not found");
    auto& state = *ctx_.pluginState;
    if (s.size() == 1) {
      if (method_ != "DELETE") return methodNotAllowed();
      plugins::proxy_cache::purgeAll(state);
      return AdminResponse{204, ""};
    }
    if (s.size() == 2 || (s.size() == 4 && s[2] == "caches")) {
      const std::string& key = s.size() == 2 ? s[1] : s[3];
      std::string dictionary;
      if (s.size() == 4) {
        const core::Plugin* p = nullptr;
        for (const auto& x : cfg().plugins)
          if (x.id == s[1] && x.name == "proxy-cache") p = &x;
        if (!p) return notFound();
        boost::system::error_code ec;
        auto conf = json::parse(p->config, ec);
        dictionary = "kong_db_cache";
        if (!ec && conf.is_object()) {
          if (auto* mem = conf.as_object().if_contains("memory"); mem && mem->is_object()) {
            if (auto* d = mem->as_object().if_contains("dictionary_name"); d && d->is_string())
              dictionary = std::string(d->as_string());
          }
        }
      }
      if (get_) {
        auto hit = dictionary.empty() ? plugins::proxy_cache::lookup(state, key)
                                      : plugins::proxy_cache::lookup(state, dictionary, key);
        return hit ? jsonResponse(200, *hit) : notFound();
      }
      if (method_ == "DELETE") {
        bool gone = dictionary.empty() ? plugins::proxy_cache::purge(state, key)
                                       : plugins::proxy_cache::purge(state, dictionary, key);
        return gone ? AdminResponse{204, ""} : notFound();
      }
      return methodNotAllowed();
    }
    return notFound();
  }

  // ---------------------------------------------------------------- schemas
  std::optional<AdminResponse> schemas() {
    const auto& s = segs_;
    if (s.size() == 3 && s[2] == "validate") {
      if (method_ != "POST") return methodNotAllowed();
      auto b = body();
      if (!b) return messageResponse(400, b.errors().front().message);
      const auto& f = b->fields;
      if (!f.contains("name") || !f.at("name").is_string())
        return schemaViolation({{"name", "required field missing"}});
      const std::string name(f.at("name").as_string());
      json::value conf = f.contains("config") ? f.at("config") : json::value();
      auto v = plugins::validateConfig(name, conf, "config", b->kind == BodyKind::form);
      if (!v) return schemaViolation(v.errors());
      return jsonResponse(200, json::object{{"message", "schema validation successful"}});
    }
    if (s.size() != 3) return notFound();
    if (!get_) return methodNotAllowed();
    const plugins::Factory* f = plugins::find(s[2]);
    if (!f) return messageResponse(404, "No plugin named '" + s[2] + "'");
    return jsonResponse(200, plugins::schema::toJson(f->schema()));
  }
};

}  // namespace

std::optional<AdminResponse> handleConsumersAndPlugins(const AdminContext& ctx,
                                                       const AdminRequest& req,
                                                       const std::vector<std::string>& segs,
                                                       std::string_view target) {
  Handler h(ctx, req, segs, target);
  return h.route();
}

}  // namespace archway::admin
