#include "config/json_shapes.h"

#include <boost/json.hpp>

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

boost::json::value headerMap(const std::map<std::string, std::vector<std::string>>& h) {
  if (h.empty()) return nullptr;
  boost::json::object o;
  for (const auto& [k, v] : h) o[k] = arrayOrNull(v);
  return o;
}

}  // namespace

boost::json::object toJson(const core::Service& s) {
  boost::json::object o;
  o.reserve(24);  // filled without a rehash: stores serialise 10^5 of these
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
  o["client_certificate"] = s.clientCertificate
                                ? boost::json::value(boost::json::object{{"id", *s.clientCertificate}})
                                : boost::json::value(nullptr);
  o["tls_verify"] = s.tlsVerify ? boost::json::value(*s.tlsVerify) : boost::json::value(nullptr);
  o["tls_verify_depth"] =
      s.tlsVerifyDepth ? boost::json::value(*s.tlsVerifyDepth) : boost::json::value(nullptr);
  o["ca_certificates"] = arrayOrNull(s.caCertificates);
  o["created_at"] = s.createdAt;
  o["updated_at"] = s.updatedAt;
  return o;
}

boost::json::object toJson(const core::Route& r) {
  boost::json::object o;
  o.reserve(24);  // filled without a rehash: stores serialise 10^5 of these
  o["id"] = r.id;
  o["name"] = optString(r.name);
  o["protocols"] = arrayOrNull(r.protocols);
  o["methods"] = arrayOrNull(r.methods);
  o["hosts"] = arrayOrNull(r.hosts);
  o["paths"] = arrayOrNull(r.paths);
  o["headers"] = headerMap(r.headers);
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

namespace {

boost::json::array intArray(const std::vector<int>& v) {
  boost::json::array a;
  for (int x : v) a.emplace_back(x);
  return a;
}

}  // namespace

boost::json::object toJson(const core::Upstream& u) {
  boost::json::object o;
  o["id"] = u.id;
  o["name"] = u.name;
  o["algorithm"] = u.algorithm;
  o["hash_on"] = u.hashOn;
  o["hash_fallback"] = u.hashFallback;
  o["hash_on_header"] = optString(u.hashOnHeader);
  o["hash_fallback_header"] = optString(u.hashFallbackHeader);
  o["hash_on_cookie"] = optString(u.hashOnCookie);
  o["hash_on_cookie_path"] = u.hashOnCookiePath;
  o["hash_on_query_arg"] = optString(u.hashOnQueryArg);
  o["hash_fallback_query_arg"] = optString(u.hashFallbackQueryArg);
  o["hash_on_uri_capture"] = optString(u.hashOnUriCapture);
  o["hash_fallback_uri_capture"] = optString(u.hashFallbackUriCapture);
  o["slots"] = u.slotCount;
  o["host_header"] = optString(u.hostHeader);
  o["use_srv_name"] = u.useSrvName;
  o["client_certificate"] = u.clientCertificate ? boost::json::value(boost::json::object{
                                                      {"id", *u.clientCertificate}})
                                                : boost::json::value(nullptr);
  const auto& a = u.healthchecks.active;
  const auto& p = u.healthchecks.passive;
  boost::json::object active{
      {"type", a.type},
      {"timeout", a.timeout},
      {"concurrency", a.concurrency},
      {"http_path", a.httpPath},
      {"https_sni", optString(a.httpsSni)},
      {"https_verify_certificate", a.httpsVerifyCertificate},
      {"headers", headerMap(a.headers)},
      {"healthy", boost::json::object{{"interval", a.healthyInterval},
                                      {"http_statuses", intArray(a.healthyHttpStatuses)},
                                      {"successes", a.healthySuccesses}}},
      {"unhealthy", boost::json::object{{"interval", a.unhealthyInterval},
                                        {"http_statuses", intArray(a.unhealthyHttpStatuses)},
                                        {"tcp_failures", a.unhealthyTcpFailures},
                                        {"timeouts", a.unhealthyTimeouts},
                                        {"http_failures", a.unhealthyHttpFailures}}}};
  boost::json::object passive{
      {"type", p.type},
      {"healthy", boost::json::object{{"http_statuses", intArray(p.healthyHttpStatuses)},
                                      {"successes", p.healthySuccesses}}},
      {"unhealthy", boost::json::object{{"http_statuses", intArray(p.unhealthyHttpStatuses)},
                                        {"tcp_failures", p.unhealthyTcpFailures},
                                        {"timeouts", p.unhealthyTimeouts},
                                        {"http_failures", p.unhealthyHttpFailures}}}};
  o["healthchecks"] = boost::json::object{{"active", std::move(active)},
                                          {"passive", std::move(passive)},
                                          {"threshold", u.healthchecks.threshold}};
  o["tags"] = arrayOrNull(u.tags);
  o["created_at"] = u.createdAt;
  o["updated_at"] = u.updatedAt;
  return o;
}

boost::json::object toJson(const core::Target& t) {
  boost::json::object o;
  o["id"] = t.id;
  o["target"] = t.target;
  o["weight"] = t.weight;
  o["upstream"] = boost::json::object{{"id", t.upstreamId}};
  o["tags"] = arrayOrNull(t.tags);
  o["created_at"] = t.createdAt;
  o["updated_at"] = t.updatedAt;
  return o;
}

namespace {
boost::json::value foreign(const std::optional<std::string>& id) {
  if (!id) return nullptr;
  return boost::json::object{{"id", *id}};
}
}  // namespace

boost::json::object toJson(const core::Consumer& c) {
  boost::json::object o;
  o.reserve(8);  // filled without a rehash: stores serialise 10^5 of these
  o["id"] = c.id;
  o["username"] = optString(c.username);
  o["custom_id"] = optString(c.customId);
  o["tags"] = arrayOrNull(c.tags);
  o["created_at"] = c.createdAt;
  o["updated_at"] = c.updatedAt;
  return o;
}

boost::json::object toJson(const core::KeyAuthCredential& k) {
  boost::json::object o;
  o.reserve(8);  // filled without a rehash: stores serialise 10^5 of these
  o["id"] = k.id;
  o["consumer"] = boost::json::object{{"id", k.consumerId}};
  o["key"] = k.key;
  o["ttl"] = k.ttl ? boost::json::value(*k.ttl) : boost::json::value(nullptr);
  o["tags"] = arrayOrNull(k.tags);
  o["created_at"] = k.createdAt;
  return o;
}

boost::json::object toJson(const core::BasicAuthCredential& b) {
  boost::json::object o;
  o["id"] = b.id;
  o["consumer"] = boost::json::object{{"id", b.consumerId}};
  o["username"] = b.username;
  o["password"] = b.password;  // the hash, as Kong answers
  o["tags"] = arrayOrNull(b.tags);
  o["created_at"] = b.createdAt;
  return o;
}

boost::json::object toJson(const core::JwtSecret& j) {
  boost::json::object o;
  o["id"] = j.id;
  o["consumer"] = boost::json::object{{"id", j.consumerId}};
  o["key"] = j.key;
  o["secret"] = j.secret;
  o["rsa_public_key"] = optString(j.rsaPublicKey);
  o["algorithm"] = j.algorithm;
  o["tags"] = arrayOrNull(j.tags);
  o["created_at"] = j.createdAt;
  return o;
}

boost::json::object toJson(const core::AclGroup& a) {
  boost::json::object o;
  o["id"] = a.id;
  o["consumer"] = boost::json::object{{"id", a.consumerId}};
  o["group"] = a.group;
  o["tags"] = arrayOrNull(a.tags);
  o["created_at"] = a.createdAt;
  return o;
}

boost::json::object toJson(const core::Plugin& p) {
  boost::json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["instance_name"] = optString(p.instanceName);
  boost::system::error_code ec;
  boost::json::value config = boost::json::parse(p.config, ec);
  o["config"] = ec ? boost::json::value(boost::json::object()) : config;
  o["enabled"] = p.enabled;
  o["protocols"] = arrayOrNull(p.protocols);
  o["route"] = foreign(p.routeId);
  o["service"] = foreign(p.serviceId);
  o["consumer"] = foreign(p.consumerId);
  o["tags"] = arrayOrNull(p.tags);
  o["ordering"] = nullptr;
  o["created_at"] = p.createdAt;
  o["updated_at"] = p.updatedAt;
  return o;
}

boost::json::object toJson(const core::Certificate& c) {
  boost::json::object o;
  o["id"] = c.id;
  o["cert"] = c.cert;
  o["key"] = c.key;
  o["cert_alt"] = optString(c.certAlt);
  o["key_alt"] = optString(c.keyAlt);
  o["tags"] = arrayOrNull(c.tags);
  o["created_at"] = c.createdAt;
  o["updated_at"] = c.updatedAt;
  return o;
}

boost::json::object toJson(const core::Sni& s) {
  boost::json::object o;
  o["id"] = s.id;
  o["name"] = s.name;
  o["certificate"] = boost::json::object{{"id", s.certificateId}};
  o["tags"] = arrayOrNull(s.tags);
  o["created_at"] = s.createdAt;
  o["updated_at"] = s.updatedAt;
  return o;
}

boost::json::object toJson(const core::CaCertificate& c) {
  boost::json::object o;
  o["id"] = c.id;
  o["cert"] = c.cert;
  o["cert_digest"] = c.certDigest;
  o["tags"] = arrayOrNull(c.tags);
  o["created_at"] = c.createdAt;
  o["updated_at"] = c.updatedAt;
  return o;
}

}  // namespace archway::config
