#include "config/entity_json.h"

#include <boost/json/serialize.hpp>

#include "config/declarative.h"
#include "config/pem.h"

namespace archway::config {
namespace {

// Declarative errors carry the document path ("services[0].host"); the Admin API reports
// them relative to the entity ("host").
core::Errors relative(const core::Errors& errors, std::string_view prefix) {
  core::Errors out;
  for (const auto& e : errors) {
    core::Error r = e;
    if (r.path == prefix) {
      r.path.clear();
    } else if (r.path.rfind(prefix, 0) == 0 && r.path.size() > prefix.size() &&
               r.path[prefix.size()] == '.') {
      r.path = r.path.substr(prefix.size() + 1);
    }
    out.push_back(std::move(r));
  }
  return out;
}

// JSON is YAML, so the entity is checked by the same parser as a kong.yml.
core::Result<core::Config> parseWrapped(const boost::json::object& document) {
  return parseDeclarativeUnchecked(boost::json::serialize(document));
}

}  // namespace

core::Result<core::Service> serviceFromJson(const boost::json::object& body) {
  boost::json::object doc{{"_format_version", "3.0"}, {"services", boost::json::array{body}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "services[0]");
  return parsed->services.front();
}

core::Result<core::Route> routeFromJson(const boost::json::object& body) {
  boost::json::object entity = body;
  entity.erase("service");
  boost::json::object doc{{"_format_version", "3.0"},
                          {"routes", boost::json::array{std::move(entity)}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "routes[0]");
  return parsed->routes.front();
}

core::Result<core::Upstream> upstreamFromJson(const boost::json::object& body) {
  boost::json::object doc{{"_format_version", "3.0"}, {"upstreams", boost::json::array{body}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "upstreams[0]");
  return parsed->upstreams.front();
}

core::Result<core::Target> targetFromJson(const boost::json::object& body) {
  boost::json::object entity = body;
  entity.erase("upstream");
  // Nested under a placeholder upstream so the parser needs no upstream reference.
  boost::json::object parent{{"name", "archway-placeholder"},
                             {"targets", boost::json::array{std::move(entity)}}};
  boost::json::object doc{{"_format_version", "3.0"},
                          {"upstreams", boost::json::array{std::move(parent)}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "upstreams[0].targets[0]");
  core::Target t = parsed->targets.front();
  t.upstreamId.clear();
  return t;
}

core::Result<core::Certificate> certificateFromJson(const boost::json::object& body) {
  boost::json::object entity = body;
  entity.erase("snis");
  boost::json::object doc{{"_format_version", "3.0"},
                          {"certificates", boost::json::array{std::move(entity)}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "certificates[0]");
  return parsed->certificates.front();
}

core::Result<core::Sni> sniFromJson(const boost::json::object& body) {
  boost::json::object entity = body;
  // A placeholder reference: the caller resolves `certificate` against the live config.
  entity["certificate"] = "00000000-0000-4000-8000-000000000000";
  boost::json::object doc{{"_format_version", "3.0"}, {"snis", boost::json::array{std::move(entity)}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "snis[0]");
  core::Sni sni = parsed->snis.front();
  sni.certificateId.clear();
  return sni;
}

core::Result<core::CaCertificate> caCertificateFromJson(const boost::json::object& body) {
  boost::json::object doc{{"_format_version", "3.0"},
                          {"ca_certificates", boost::json::array{body}}};
  auto parsed = parseWrapped(doc);
  if (!parsed) return relative(parsed.errors(), "ca_certificates[0]");
  const core::CaCertificate& ca = parsed->caCertificates.front();
  // Kong refuses an expired CA when it is written (not when a stored one expires later).
  if (auto e = checkCaCertificatePem(ca.cert, true)) return core::Error{"", *e};
  return ca;
}

}  // namespace archway::config
