#include "config/export.h"

#include <string_view>
#include <unordered_map>
#include <vector>
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
  // Children grouped by parent id in one pass each (in config order): nesting by scanning
  // every child per parent is quadratic, minutes at 10^5 consumers with credentials.
  auto byParent = [](const auto& all, auto parentOf) {
    using T = typename std::decay_t<decltype(all)>::value_type;
    std::unordered_map<std::string_view, std::vector<const T*>> out;
    for (const auto& x : all) {
      if (const std::string* p = parentOf(x)) out[*p].push_back(&x);
    }
    return out;
  };
  const auto routesOf = byParent(config.routes, [](const core::Route& r) {
    return r.serviceId ? &*r.serviceId : static_cast<const std::string*>(nullptr);
  });
  json::array services;
  for (const auto& s : config.services) {
    json::object o = clean(toJson(s), {});
    if (s.clientCertificate) o["client_certificate"] = *s.clientCertificate;
    json::array routes;
    if (auto it = routesOf.find(s.id); it != routesOf.end()) {
      for (const auto* r : it->second) routes.push_back(clean(toJson(*r), {"service"}));
    }
    if (!routes.empty()) o["routes"] = std::move(routes);
    services.push_back(std::move(o));
  }
  json::array looseRoutes;
  for (const auto& r : config.routes) {
    if (!r.serviceId) looseRoutes.push_back(clean(toJson(r), {"service"}));
  }
  const auto targetsOf =
      byParent(config.targets, [](const core::Target& t) { return &t.upstreamId; });
  json::array upstreams;
  for (const auto& u : config.upstreams) {
    json::object o = clean(toJson(u), {});
    if (u.clientCertificate) o["client_certificate"] = *u.clientCertificate;
    json::array targets;
    if (auto it = targetsOf.find(u.id); it != targetsOf.end()) {
      for (const auto* t : it->second) targets.push_back(clean(toJson(*t), {"upstream"}));
    }
    if (!targets.empty()) o["targets"] = std::move(targets);
    upstreams.push_back(std::move(o));
  }
  auto consumerOf = [](const auto& x) { return &x.consumerId; };
  const auto keyauths = byParent(config.keyauthCredentials, consumerOf);
  const auto basicauths = byParent(config.basicauthCredentials, consumerOf);
  const auto jwts = byParent(config.jwtSecrets, consumerOf);
  const auto acls = byParent(config.acls, consumerOf);
  json::array consumers;
  for (const auto& c : config.consumers) {
    json::object o = clean(toJson(c), {});
    auto nest = [&](const char* key, const auto& grouped) {
      auto it = grouped.find(c.id);
      if (it == grouped.end()) return;
      json::array a;
      for (const auto* x : it->second) a.push_back(clean(toJson(*x), {"consumer"}));
      o[key] = std::move(a);
    };
    nest("keyauth_credentials", keyauths);
    nest("basicauth_credentials", basicauths);
    nest("jwt_secrets", jwts);
    nest("acls", acls);
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
  // Certificates with their snis nested (Kong's nesting of a single foreign key).
  json::array certificates;
  for (const auto& c : config.certificates) {
    json::object o = clean(toJson(c), {});
    json::array snis;
    for (const auto& sn : config.snis) {
      if (sn.certificateId == c.id) snis.push_back(clean(toJson(sn), {"certificate"}));
    }
    if (!snis.empty()) o["snis"] = std::move(snis);
    certificates.push_back(std::move(o));
  }
  json::array caCertificates;
  for (const auto& c : config.caCertificates) caCertificates.push_back(clean(toJson(c), {}));
  if (!certificates.empty()) doc["certificates"] = std::move(certificates);
  if (!caCertificates.empty()) doc["ca_certificates"] = std::move(caCertificates);
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
      config.targets.empty() && config.consumers.empty() && config.plugins.empty() &&
      config.certificates.empty() && config.snis.empty() && config.caCertificates.empty()) {
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
  for (auto& x : c.certificates) x.createdAt = x.updatedAt = 0;
  for (auto& x : c.snis) x.createdAt = x.updatedAt = 0;
  for (auto& x : c.caCertificates) x.createdAt = x.updatedAt = 0;
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
