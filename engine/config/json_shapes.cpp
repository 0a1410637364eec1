#include "config/json_shapes.h"

namespace archway::config {
namespace {

boost::json::value optString(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return boost::json::value(*s);
}

// Kong answers null, not [], for unset array fields.
boost::json::value arrayOrNull(const std::vector<std::string>& v) {
  if (v.empty()) return nullptr;
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

boost::json::object toJson(const core::Service& s) {
  boost::json::object o;
  o["id"] = s.id;
  o["name"] = optString(s.name);
  o["protocol"] = s.protocol;
  o["host"] = s.host;
  o["port"] = s.port;
  o["path"] = optString(s.path);
  o["retries"] = s.retries;
  o["connect_timeout"] = s.connectTimeout;
  o["write_timeout"] = s.writeTimeout;
  o["read_timeout"] = s.readTimeout;
  o["enabled"] = s.enabled;
  o["tags"] = arrayOrNull(s.tags);
  o["client_certificate"] = nullptr;
  o["tls_verify"] = nullptr;
  o["tls_verify_depth"] = nullptr;
  o["ca_certificates"] = nullptr;
  o["created_at"] = s.createdAt;
  o["updated_at"] = s.updatedAt;
  return o;
}

boost::json::object toJson(const core::Route& r) {
  boost::json::object o;
  o["id"] = r.id;
  o["name"] = optString(r.name);
  o["protocols"] = arrayOrNull(r.protocols);
  o["methods"] = arrayOrNull(r.methods);
  o["hosts"] = arrayOrNull(r.hosts);
  o["paths"] = arrayOrNull(r.paths);
  if (r.headers.empty()) {
    o["headers"] = nullptr;
  } else {
    boost::json::object h;
    for (const auto& [k, v] : r.headers) h[k] = arrayOrNull(v);
    o["headers"] = std::move(h);
  }
  o["snis"] = nullptr;
  o["sources"] = nullptr;
  o["destinations"] = nullptr;
  o["strip_path"] = r.stripPath;
  o["preserve_host"] = r.preserveHost;
  o["regex_priority"] = r.regexPriority;
  o["path_handling"] = r.pathHandling;
  o["https_redirect_status_code"] = r.httpsRedirectStatusCode;
  o["request_buffering"] = r.requestBuffering;
  o["response_buffering"] = r.responseBuffering;
  if (r.serviceId) {
    o["service"] = boost::json::object{{"id", *r.serviceId}};
  } else {
    o["service"] = nullptr;
  }
  o["tags"] = arrayOrNull(r.tags);
  o["created_at"] = r.createdAt;
  o["updated_at"] = r.updatedAt;
  return o;
}

}  // namespace archway::config
