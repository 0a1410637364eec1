#include "config/diff.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "config/declarative.h"
#include "config/json_shapes.h"

namespace archway::config {
namespace json = boost::json;

namespace {

// ---------------------------------------------------------------- what the file wrote

constexpr std::string_view kEntityLists[] = {
    "services",           "routes",          "upstreams", "targets", "consumers", "plugins",
    "keyauth_credentials", "basicauth_credentials", "jwt_secrets", "acls", "certificates",
    "snis",               "ca_certificates"};

bool isEntityList(std::string_view key) {
  for (auto k : kEntityLists)
    if (k == key) return true;
  return false;
}

// Walks the entity lists (top level and nested, never into a plugin's `config`).
void collect(const YAML::Node& list, std::string_view kind, DesiredConfig& out) {
  if (!list.IsSequence()) return;
  for (const auto& n : list) {
    if (!n.IsMap()) continue;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) continue;
      const std::string& key = kv.first.Scalar();
      if (key == "id" && kv.second.IsScalar()) out.declaredIds.insert(kv.second.Scalar());
      if (isEntityList(key)) collect(kv.second, key, out);
    }
    if (kind == "basicauth_credentials") {
      const YAML::Node user = n["username"], password = n["password"];
      if (user && password && user.IsScalar() && password.IsScalar())
        out.basicAuthPasswords[user.Scalar()] = password.Scalar();
    }
  }
}

std::string sha1Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

// The declarative parser keeps a password that already is Kong's hash as it is.
bool isHashedPassword(const std::string& p) {
  return p.size() == 40 && p.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// ---------------------------------------------------------------- entities as JSON items

// One entity of one kind, in the live config's id space (a desired entity's references are
// translated to the live entities they matched).
struct Item {
  std::string id;
  std::string key;                // natural key; empty: none
  json::object body;              // Kong JSON without id/created_at/updated_at
  std::vector<std::string> refs;  // ids of the entities it references
  std::string parent;             // a target's upstream, a credential's consumer
  std::string name;               // for display
  json::object send;              // fields the request sends instead of body's (a plain password)
};

json::object bodyOf(json::object o) {
  o.erase("id");
  o.erase("created_at");
  o.erase("updated_at");
  return o;
}

json::value foreignKey(const std::string& id) { return json::object{{"id", id}}; }

struct Context {
  std::function<std::string(const std::string&)> tr;  // desired id -> live id (identity: live)
  std::unordered_map<std::string, std::string>* names;

  std::string nameOf(const std::string& id) const {
    auto it = names->find(id);
    return it == names->end() ? id : it->second;
  }
};

// A kind of entity: how to list it, where the Admin API keeps it, what it hides.
struct Kind {
  std::string entity;
  int level;  // decK's dependency levels: created top-down, deleted bottom-up
  std::function<std::vector<Item>(const core::Config&, const Context&)> items;
  std::function<std::string(const Item&)> collection;  // POST path
  std::function<std::string(const Item&, const std::string&)> path;  // one entity's path
  bool put = true;                   // false: an update is DELETE + POST (targets)
  std::vector<std::string> hidden;   // secrets: never printed
  std::vector<std::string> sendless;  // body fields the request leaves out (the path has them)
};

template <class T, class F>
std::vector<Item> each(const std::vector<T>& all, F make) {
  std::vector<Item> out;
  out.reserve(all.size());
  for (const auto& e : all) out.push_back(make(e));
  return out;
}

std::string scopeName(const core::Plugin& p, const Context& c) {
  std::string s;
  auto add = [&](const char* what, const std::optional<std::string>& id) {
    if (!id) return;
    if (!s.empty()) s += ", ";
    s += std::string(what) + " " + c.nameOf(c.tr(*id));
  };
  add("route", p.routeId);
  add("service", p.serviceId);
  add("consumer", p.consumerId);
  return s.empty() ? "global" : s;
}

std::vector<Kind> kinds() {
  std::vector<Kind> k;
  auto credential = [](std::string entity, std::string path, auto member, auto natural,
                       std::vector<std::string> hidden) {
    return Kind{
        entity,
        2,
        [entity, member, natural](const core::Config& cfg, const Context& c) {
          return each(cfg.*member, [&](const auto& x) {
            Item it;
            it.id = x.id;
            it.parent = c.tr(x.consumerId);
            it.refs = {it.parent};
            it.body = bodyOf(toJson(x));
            it.body["consumer"] = foreignKey(it.parent);
            it.key = natural(x, it.parent);
            std::string shown = entity == "key-auth" ? x.id : natural(x, std::string());
            it.name = shown + " (consumer " + c.nameOf(it.parent) + ")";
            return it;
          });
        },
        [path](const Item& it) { return "/consumers/" + it.parent + "/" + path; },
        [path](const Item& it, const std::string& id) {
          return "/consumers/" + it.parent + "/" + path + "/" + id;
        },
        true,
        std::move(hidden),
        {"consumer"}};
  };

  k.push_back(Kind{
      "consumer", 1,
      [](const core::Config& cfg, const Context&) {
        return each(cfg.consumers, [](const core::Consumer& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          it.key = x.username ? "username:" + *x.username
                              : x.customId ? "custom_id:" + *x.customId : std::string();
          it.name = x.username ? *x.username : x.customId ? *x.customId : x.id;
          return it;
        });
      },
      [](const Item&) { return std::string("/consumers"); },
      [](const Item&, const std::string& id) { return "/consumers/" + id; }, true, {}, {}});
  k.push_back(Kind{
      "certificate", 1,
      [](const core::Config& cfg, const Context&) {
        return each(cfg.certificates, [](const core::Certificate& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          it.body.erase("snis");  // the snis are their own kind
          it.name = x.id;
          return it;
        });
      },
      [](const Item&) { return std::string("/certificates"); },
      [](const Item&, const std::string& id) { return "/certificates/" + id; }, true,
      {"key", "key_alt"}, {}});
  k.push_back(Kind{
      "ca_certificate", 1,
      [](const core::Config& cfg, const Context&) {
        return each(cfg.caCertificates, [](const core::CaCertificate& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          it.key = x.certDigest;
          it.name = x.certDigest.substr(0, 16) + "...";
          return it;
        });
      },
      [](const Item&) { return std::string("/ca_certificates"); },
      [](const Item&, const std::string& id) { return "/ca_certificates/" + id; }, true, {},
      {}});
  k.push_back(Kind{
      "sni", 2,
      [](const core::Config& cfg, const Context& c) {
        return each(cfg.snis, [&](const core::Sni& x) {
          Item it;
          it.id = x.id;
          it.parent = c.tr(x.certificateId);
          it.refs = {it.parent};
          it.body = bodyOf(toJson(x));
          it.body["certificate"] = foreignKey(it.parent);
          it.key = x.name;
          it.name = x.name;
          return it;
        });
      },
      [](const Item&) { return std::string("/snis"); },
      [](const Item&, const std::string& id) { return "/snis/" + id; }, true, {}, {}});
  k.push_back(Kind{
      "service", 2,
      [](const core::Config& cfg, const Context&) {
        return each(cfg.services, [](const core::Service& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          it.key = x.name.value_or("");
          it.name = x.name.value_or(x.id);
          return it;
        });
      },
      [](const Item&) { return std::string("/services"); },
      [](const Item&, const std::string& id) { return "/services/" + id; }, true, {}, {}});
  k.push_back(Kind{
      "upstream", 2,
      [](const core::Config& cfg, const Context&) {
        return each(cfg.upstreams, [](const core::Upstream& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          it.key = x.name;
          it.name = x.name;
          return it;
        });
      },
      [](const Item&) { return std::string("/upstreams"); },
      [](const Item&, const std::string& id) { return "/upstreams/" + id; }, true, {}, {}});
  k.push_back(credential(
      "key-auth", "key-auth", &core::Config::keyauthCredentials,
      [](const core::KeyAuthCredential& x, const std::string&) { return x.key; }, {"key"}));
  k.push_back(credential(
      "basic-auth", "basic-auth", &core::Config::basicauthCredentials,
      [](const core::BasicAuthCredential& x, const std::string&) { return x.username; },
      {"password"}));
  k.push_back(credential(
      "jwt", "jwt", &core::Config::jwtSecrets,
      [](const core::JwtSecret& x, const std::string&) { return x.key; }, {"secret"}));
  k.push_back(credential(
      "acl", "acls", &core::Config::acls,
      [](const core::AclGroup& x, const std::string& consumer) {
        return consumer.empty() ? x.group : consumer + "|" + x.group;
      },
      {}));
  k.push_back(Kind{
      "route", 3,
      [](const core::Config& cfg, const Context& c) {
        return each(cfg.routes, [&](const core::Route& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          if (x.serviceId) {
            it.refs = {c.tr(*x.serviceId)};
            it.body["service"] = foreignKey(it.refs.front());
          }
          it.key = x.name.value_or("");
          it.name = x.name.value_or(x.id);
          return it;
        });
      },
      [](const Item&) { return std::string("/routes"); },
      [](const Item&, const std::string& id) { return "/routes/" + id; }, true, {}, {}});
  k.push_back(Kind{
      "target", 3,
      [](const core::Config& cfg, const Context& c) {
        return each(cfg.targets, [&](const core::Target& x) {
          Item it;
          it.id = x.id;
          it.parent = c.tr(x.upstreamId);
          it.refs = {it.parent};
          it.body = bodyOf(toJson(x));
          it.body["upstream"] = foreignKey(it.parent);
          it.key = it.parent + "|" + x.target;
          it.name = x.target + " (upstream " + c.nameOf(it.parent) + ")";
          return it;
        });
      },
      [](const Item& it) { return "/upstreams/" + it.parent + "/targets"; },
      [](const Item& it, const std::string& id) {
        return "/upstreams/" + it.parent + "/targets/" + id;
      },
      false, {}, {"upstream"}});
  k.push_back(Kind{
      "plugin", 4,
      [](const core::Config& cfg, const Context& c) {
        return each(cfg.plugins, [&](const core::Plugin& x) {
          Item it;
          it.id = x.id;
          it.body = bodyOf(toJson(x));
          std::string key = x.name;
          auto scope = [&](const char* field, const std::optional<std::string>& id) {
            key += "|";
            if (!id) return;
            const std::string live = c.tr(*id);
            it.refs.push_back(live);
            it.body[field] = foreignKey(live);
            key += live;
          };
          scope("route", x.routeId);
          scope("service", x.serviceId);
          scope("consumer", x.consumerId);
          it.key = key;
          it.name = x.name + " (" + scopeName(x, c) + ")";
          return it;
        });
      },
      [](const Item&) { return std::string("/plugins"); },
      [](const Item&, const std::string& id) { return "/plugins/" + id; }, true, {}, {}});
  return k;
}

// ---------------------------------------------------------------- comparing

bool same(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    const auto& x = a.as_object();
    const auto& y = b.as_object();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x) {
      const json::value* w = y.if_contains(k);
      if (!w || !same(v, *w)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    const auto& x = a.as_array();
    const auto& y = b.as_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same(x[i], y[i])) return false;
    return true;
  }
  return a == b;
}

// References compare as a whole ("service": {"id": ...}), records field by field.
bool isReference(std::string_view field) {
  return field == "service" || field == "route" || field == "consumer" || field == "upstream";
}

void diffFields(const json::value& before, const json::value& after, const std::string& path,
                std::vector<FieldChange>& out) {
  if (before.is_object() && after.is_object() && !isReference(path)) {
    static const json::value kNull;
    const auto& b = before.as_object();
    const auto& a = after.as_object();
    auto join = [&](std::string_view k) {
      return path.empty() ? std::string(k) : path + "." + std::string(k);
    };
    for (const auto& [k, v] : a) {
      const json::value* old = b.if_contains(k);
      diffFields(old ? *old : kNull, v, join(k), out);
    }
    for (const auto& [k, v] : b)
      if (!a.contains(k)) diffFields(v, kNull, join(k), out);
    return;
  }
  if (!same(before, after))
    out.push_back({path, json::serialize(before), json::serialize(after)});
}

// ---------------------------------------------------------------- planning

struct KindPlan {
  std::vector<Change> early, upserts, late;  // blocking deletes, creates/updates, deletes
};

Change removal(const Kind& k, const Item& live) {
  return Change{ChangeKind::remove, k.entity, live.name, {},
                {AdminCall{"DELETE", k.path(live, live.id), {}}}};
}

std::string requestBody(const Kind& k, const Item& it, const std::string* id) {
  json::object body = it.body;
  for (const auto& f : k.sendless) body.erase(f);
  for (const auto& [f, v] : it.send) body[f] = v;
  if (id) body["id"] = *id;
  return json::serialize(body);
}

}  // namespace

core::Result<DesiredConfig> parseDesired(std::string_view text) {
  auto parsed = parseDeclarative(text);
  if (!parsed) return parsed.errors();
  DesiredConfig out;
  out.config = std::move(parsed.value());
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (root.IsMap()) {
      for (const auto& kv : root) {
        if (kv.first.IsScalar() && isEntityList(kv.first.Scalar()))
          collect(kv.second, kv.first.Scalar(), out);
      }
    }
  } catch (const YAML::Exception& e) {
    return core::Error{"", e.what()};  // the parser accepted it; this does not happen
  }
  return out;
}

core::Result<DesiredConfig> loadDesiredFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Error{"config", "cannot read " + path};
  std::ostringstream text;
  text << in.rdbuf();
  return parseDesired(text.str());
}

std::size_t ConfigDiff::count(ChangeKind kind) const {
  std::size_t n = 0;
  for (const auto& c : changes)
    if (c.kind == kind) ++n;
  return n;
}

ConfigDiff diffConfigs(const core::Config& live, const DesiredConfig& desired) {
  std::unordered_map<std::string, std::string> idMap;  // desired id -> live id
  std::unordered_map<std::string, std::string> names;  // live-space id -> display name
  std::unordered_set<std::string> blocked;  // live ids deleted before anything is written
  Context liveCtx{[](const std::string& id) { return id; }, &names};
  Context desiredCtx{[&](const std::string& id) {
                       auto it = idMap.find(id);
                       return it == idMap.end() ? id : it->second;
                     },
                     &names};

  const std::vector<Kind> all = kinds();
  std::vector<KindPlan> plans(all.size());
  for (std::size_t ki = 0; ki < all.size(); ++ki) {
    const Kind& kind = all[ki];
    std::vector<Item> have = kind.items(live, liveCtx);
    std::vector<Item> want = kind.items(desired.config, desiredCtx);

    // Basic-auth: the file's password hashed with the consumer the credential ends up with.
    if (kind.entity == "basic-auth") {
      for (auto& it : want) {
        auto pw = desired.basicAuthPasswords.find(std::string(it.body.at("username").as_string()));
        if (pw == desired.basicAuthPasswords.end() || isHashedPassword(pw->second)) continue;
        it.body["password"] = sha1Hex(pw->second + it.parent);
        it.send["password"] = pw->second;
      }
    }

    std::unordered_map<std::string, std::size_t> haveById, haveByKey;
    for (std::size_t i = 0; i < have.size(); ++i) {
      haveById.emplace(have[i].id, i);
      if (!have[i].key.empty()) haveByKey.emplace(have[i].key, i);
      names[have[i].id] = have[i].name;
    }
    std::vector<long> match(want.size(), -1);      // want -> have
    std::vector<long> matchedBy(have.size(), -1);  // have -> want
    auto take = [&](std::size_t w, std::size_t h) {
      match[w] = static_cast<long>(h);
      matchedBy[h] = static_cast<long>(w);
    };
    for (std::size_t w = 0; w < want.size(); ++w) {
      const Item& d = want[w];
      const bool declared = desired.declaredIds.count(d.id) != 0;
      if (!declared && !d.key.empty()) {
        if (auto it = haveByKey.find(d.key); it != haveByKey.end() && matchedBy[it->second] < 0) {
          take(w, it->second);
          continue;
        }
      }
      if (auto it = haveById.find(d.id); it != haveById.end() && matchedBy[it->second] < 0)
        take(w, it->second);
    }
    // A live entity that references a blocked one goes with it (and is created again).
    for (std::size_t h = 0; h < have.size(); ++h) {
      bool refsBlocked = false;
      for (const auto& r : have[h].refs) refsBlocked = refsBlocked || blocked.count(r);
      if (!refsBlocked) continue;
      if (matchedBy[h] >= 0) match[static_cast<std::size_t>(matchedBy[h])] = -1;
      matchedBy[h] = -1;
      blocked.insert(have[h].id);
    }
    // A live entity holding a natural key the file gives another entity is deleted first.
    std::unordered_set<std::string> wantedKeys;
    for (const auto& d : want)
      if (!d.key.empty()) wantedKeys.insert(d.key);
    for (std::size_t h = 0; h < have.size(); ++h) {
      if (matchedBy[h] < 0 && !have[h].key.empty() && wantedKeys.count(have[h].key))
        blocked.insert(have[h].id);
    }

    KindPlan& plan = plans[ki];
    for (std::size_t w = 0; w < want.size(); ++w) {
      Item& d = want[w];
      if (match[w] < 0) {
        names[d.id] = d.name;
        plan.upserts.push_back(Change{ChangeKind::create, kind.entity, d.name, {},
                                      {AdminCall{"POST", kind.collection(d),
                                                 requestBody(kind, d, &d.id)}}});
        continue;
      }
      const Item& l = have[static_cast<std::size_t>(match[w])];
      idMap[d.id] = l.id;
      names[l.id] = d.name;
      Change c{ChangeKind::update, kind.entity, d.name, {}, {}};
      diffFields(l.body, d.body, "", c.fields);
      if (c.fields.empty()) continue;
      for (auto& f : c.fields) {
        const bool secret =
            std::find(kind.hidden.begin(), kind.hidden.end(), f.field) != kind.hidden.end();
        if (secret) f.before = f.after = "\"(hidden)\"";
        if (isReference(f.field)) {
          auto shown = [&](const std::string& text) {
            json::error_code ec;
            json::value v = json::parse(text, ec);
            if (ec || !v.is_object() || !v.as_object().contains("id")) return text;
            return json::serialize(
                json::value(names.count(std::string(v.as_object().at("id").as_string()))
                                ? names[std::string(v.as_object().at("id").as_string())]
                                : std::string(v.as_object().at("id").as_string())));
          };
          f.before = shown(f.before);
          f.after = shown(f.after);
        }
      }
      if (!kind.put || l.parent != d.parent) {
        c.calls.push_back(AdminCall{"DELETE", kind.path(l, l.id), {}});
        c.calls.push_back(AdminCall{"POST", kind.collection(d), requestBody(kind, d, &l.id)});
      } else {
        c.calls.push_back(AdminCall{"PUT", kind.path(l, l.id), requestBody(kind, d, nullptr)});
      }
      plan.upserts.push_back(std::move(c));
    }
    for (std::size_t h = 0; h < have.size(); ++h) {
      if (matchedBy[h] >= 0) continue;
      (blocked.count(have[h].id) ? plan.early : plan.late).push_back(removal(kind, have[h]));
    }
  }

  ConfigDiff out;
  auto append = [&](std::vector<Change>& from) {
    for (auto& c : from) out.changes.push_back(std::move(c));
  };
  const int maxLevel = 4;
  for (int level = maxLevel; level >= 1; --level)
    for (std::size_t ki = 0; ki < all.size(); ++ki)
      if (all[ki].level == level) append(plans[ki].early);
  for (int level = 1; level <= maxLevel; ++level)
    for (std::size_t ki = 0; ki < all.size(); ++ki)
      if (all[ki].level == level) append(plans[ki].upserts);
  for (int level = maxLevel; level >= 1; --level)
    for (std::size_t ki = 0; ki < all.size(); ++ki)
      if (all[ki].level == level) append(plans[ki].late);
  return out;
}

std::string describe(const Change& change) {
  static constexpr const char* kVerb[] = {"creating", "updating", "deleting"};
  std::string line = std::string(kVerb[static_cast<int>(change.kind)]) + " " + change.entity +
                     " " + change.name;
  if (!change.fields.empty()) {
    line += "  {";
    for (std::size_t i = 0; i < change.fields.size(); ++i) {
      const auto& f = change.fields[i];
      if (i) line += ", ";
      line += json::serialize(json::value(f.field)) + ": " + f.before + " -> " + f.after;
    }
    line += "}";
  }
  return line;
}

std::string summary(std::size_t created, std::size_t updated, std::size_t deleted) {
  return "Summary: Created: " + std::to_string(created) + " Updated: " + std::to_string(updated) +
         " Deleted: " + std::to_string(deleted);
}

}  // namespace archway::config
