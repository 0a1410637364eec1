// GET and POST /config (kong-reference #28): the whole configuration as one declarative
// document.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/entity_handlers.h"
#include "admin/request_body.h"
#include "config/declarative.h"
#include "config/export.h"
#include "config/json_shapes.h"

namespace archway::admin {
namespace json = boost::json;

namespace {

AdminResponse invalidDeclarative(const core::Errors& errors) {
  json::object fields = nestedFields(errors);
  return jsonResponse(
      400, json::object{{"code", 14},
                        {"name", "invalid declarative configuration"},
                        {"message", "declarative config is invalid: " + json::serialize(fields)},
                        {"fields", fields}});
}

bool flag(boost::urls::params_view params, std::string_view name) {
  for (auto p : params) {
    if (p.key == name) return p.value == "1" || p.value == "true" || !p.has_value;
  }
  return false;
}

// Kong's flattened entities: each entity type maps ids to entities. Written as text entity by
// entity: a 10^4-route answer as one JSON object would be ~5 MB of DOM built, hashed and freed
// on the control thread while traffic runs.
template <class Entity>
void appendById(std::string& out, std::string_view name, const std::vector<Entity>& all) {
  out += json::serialize(json::string_view(name.data(), name.size()));
  out += ":{";
  bool first = true;
  for (const auto& e : all) {
    if (!first) out += ',';
    first = false;
    out += json::serialize(json::string_view(e.id));
    out += ':';
    out += json::serialize(config::toJson(e));
  }
  out += '}';
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

std::optional<AdminResponse> handleConfigEndpoint(const AdminContext& ctx, const AdminRequest& req,
                                                  boost::urls::params_view query) {
  auto current = ctx.config ? ctx.config() : nullptr;
  if (!current) current = std::make_shared<const core::Config>();
  if (req.method == "GET" || req.method == "HEAD") {
    return jsonResponse(200, json::object{{"config", config::exportYaml(*current)}});
  }
  if (req.method != "POST") return std::nullopt;

  // The document is the JSON body itself (it has `_format_version`), a `config` field (JSON,
  // form or multipart) holding YAML/JSON text, or the raw body.
  std::string storage;
  std::string_view text = req.body;
  if (contains(req.contentType, "application/json")) {
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec);
    if (!ec && v.is_object() && !v.as_object().contains("_format_version") &&
        v.as_object().contains("config")) {
      const json::value& c = v.as_object().at("config");
      storage = c.is_string() ? std::string(c.as_string()) : json::serialize(c);
      text = storage;
    }
  } else if (contains(req.contentType, "application/x-www-form-urlencoded") ||
             contains(req.contentType, "multipart/form-data")) {
    text = formField(req.body, req.contentType, "config", storage);
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return messageResponse(400, "expected a declarative configuration");
  }
  auto parsed = config::parseDeclarative(text);
  if (!parsed) return invalidDeclarative(parsed.errors());
  if (flag(query, "check_hash") && config::configHash(*parsed) == config::configHash(current)) {
    return AdminResponse{304, ""};
  }
  if (!ctx.apply) return messageResponse(405, "cannot change the configuration of this node");
  // Handed over whole (10^4 routes are not copied) when the answer can read it back.
  auto applied = ctx.apply(ctx.config ? std::move(parsed.value()) : core::Config(*parsed));
  if (!applied) return invalidDeclarative(applied.errors());
  auto now = ctx.config ? ctx.config() : nullptr;
  const core::Config& c = now ? *now : *parsed;
  AdminResponse created{201, "{"};
  appendById(created.body, "services", c.services);
  created.body += ',';
  appendById(created.body, "routes", c.routes);
  created.body += ',';
  appendById(created.body, "upstreams", c.upstreams);
  created.body += ',';
  appendById(created.body, "targets", c.targets);
  created.body += '}';
  return created;
}

}  // namespace archway::admin
