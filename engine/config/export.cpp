#include "config/export.h"

#include <boost/json/parse.hpp>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include "config/json_shapes.h"

namespace archway::config {
namespace {

namespace json = boost::json;

// Admin API shapes carry nulls for unset fields and for fields Archway does not model yet;
// a kong.yml leaves them out.
json::value withoutNulls(const json::value& v) {
  if (v.is_object()) {
    json::object out;
    for (const auto& [k, x] : v.as_object()) {
      if (!x.is_null()) out[k] = withoutNulls(x);
    }
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& x : v.as_array()) out.push_back(withoutNulls(x));
    return out;
  }
  return v;
}

json::object clean(json::object o, std::initializer_list<std::string_view> drop) {
  for (auto k : drop) o.erase(k);
  return withoutNulls(o).as_object();
}

void emit(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [k, x] : v.as_object()) {
        out << YAML::Key << std::string(k) << YAML::Value;
        emit(out, x);
      }
      out << YAML::EndMap;
      break;
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& x : v.as_array()) emit(out, x);
      out << YAML::EndSeq;
      break;
    case json::kind::string:
      // Always quoted: "true", "123" or "~/x" must stay strings.
      out << YAML::DoubleQuoted << std::string(v.as_string());
      break;
    case json::kind::bool_:
      out << (v.as_bool() ? "true" : "false");
      break;
    case json::kind::int64:
      out << v.as_int64();
      break;
    case json::kind::uint64:
      out << v.as_uint64();
      break;
    case json::kind::double_:
      out << v.as_double();
      break;
    case json::kind::null:
      out << YAML::Null;
      break;
  }
}

}  // namespace

json::object exportJson(const core::Config& config) {
  json::object doc;
  doc["_format_version"] = "3.0";
  json::array services;
  for (const auto& s : config.services) {
    json::object o = clean(
        toJson(s), {"client_certificate", "tls_verify", "tls_verify_depth", "ca_certificates"});
    json::array routes;
    for (const auto& r : config.routes) {
      if (r.serviceId == s.id) routes.push_back(clean(toJson(r), {"service"}));
    }
    if (!routes.empty()) o["routes"] = std::move(routes);
    services.push_back(std::move(o));
  }
  json::array looseRoutes;
  for (const auto& r : config.routes) {
    if (!r.serviceId) looseRoutes.push_back(clean(toJson(r), {"service"}));
  }
  json::array upstreams;
  for (const auto& u : config.upstreams) {
    json::object o = clean(toJson(u), {"client_certificate"});
    json::array targets;
    for (const auto& t : config.targets) {
      if (t.upstreamId == u.id) targets.push_back(clean(toJson(t), {"upstream"}));
    }
    if (!targets.empty()) o["targets"] = std::move(targets);
    upstreams.push_back(std::move(o));
  }
  json::array consumers;
  for (const auto& c : config.consumers) {
    json::object o = clean(toJson(c), {});
    auto nest = [&](const char* key, const auto& list) {
      json::array a;
      for (const auto& x : list) {
        if (x.consumerId == c.id) a.push_back(clean(toJson(x), {"consumer"}));
      }
      if (!a.empty()) o[key] = std::move(a);
    };
    nest("keyauth_credentials", config.keyauthCredentials);
    nest("basicauth_credentials", config.basicauthCredentials);
    nest("jwt_secrets", config.jwtSecrets);
    nest("acls", config.acls);
    consumers.push_back(std::move(o));
  }
  // Plugins stay at the top level with their scope as references (kong.yml accepts both).
  json::array plugins;
  for (const auto& p : config.plugins) {
    json::object o = clean(toJson(p), {"ordering"});
    for (const char* k : {"route", "service", "consumer"}) {
      if (auto it = o.find(k); it != o.end() && it->value().is_object())
        it->value() = it->value().as_object().at("id");
    }
    // The config keeps its nulls: a null there is a value the schema knows.
    boost::system::error_code ec;
    json::value conf = json::parse(p.config, ec);
    if (!ec) o["config"] = conf;
    plugins.push_back(std::move(o));
  }
  if (!services.empty()) doc["services"] = std::move(services);
  if (!looseRoutes.empty()) doc["routes"] = std::move(looseRoutes);
  if (!upstreams.empty()) doc["upstreams"] = std::move(upstreams);
  if (!consumers.empty()) doc["consumers"] = std::move(consumers);
  if (!plugins.empty()) doc["plugins"] = std::move(plugins);
  return doc;
}

std::string exportYaml(const core::Config& config) {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  emit(out, exportJson(config));
  return std::string(out.c_str()) + "\n";
}

std::string configHash(const core::Config& config) {
  if (config.services.empty() && config.routes.empty() && config.upstreams.empty() &&
      config.targets.empty() && config.consumers.empty() && config.plugins.empty()) {
    return std::string(32, '0');
  }
  core::Config c = config;
  for (auto& s : c.services) s.createdAt = s.updatedAt = 0;
  for (auto& r : c.routes) r.createdAt = r.updatedAt = 0;
  for (auto& u : c.upstreams) u.createdAt = u.updatedAt = 0;
  for (auto& t : c.targets) t.createdAt = t.updatedAt = 0;
  for (auto& x : c.consumers) x.createdAt = x.updatedAt = 0;
  for (auto& x : c.keyauthCredentials) x.createdAt = 0;
  for (auto& x : c.basicauthCredentials) x.createdAt = 0;
  for (auto& x : c.jwtSecrets) x.createdAt = 0;
  for (auto& x : c.acls) x.createdAt = 0;
  for (auto& x : c.plugins) x.createdAt = x.updatedAt = 0;
  const std::string text = exportYaml(c);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

}  // namespace archway::config
