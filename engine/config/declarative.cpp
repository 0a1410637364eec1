#include "config/declarative.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <boost/json.hpp>

#include "config/json_node.h"
#include "config/pem.h"
#include "config/url.h"
#include "core/flat_hash.h"
#include "core/uuid.h"
#include "plugins/chain.h"

namespace archway::config {
namespace {

// A plain (unquoted) scalar YAML's core schema reads as a number or a boolean.
bool plainNonString(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return true;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && digits) {
      std::size_t j = i + 1;
      if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
      if (j == s.size()) return false;
      for (; j < s.size(); ++j)
        if (s[j] < '0' || s[j] > '9') return false;
      return true;
    } else {
      return false;
    }
  }
  return digits;
}


using core::Error;
using core::Errors;

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Kong's typedefs.tag: printable ASCII except `,` and `/`, plus UTF-8 bytes; not empty.
std::optional<std::string> checkTag(const std::string& tag) {
  bool ok = !tag.empty();
  for (unsigned char c : tag) {
    if (c == ',' || c == '/' || c < 0x20 || c == 0x7f || c > 0xf4) ok = false;
  }
  if (ok) return std::nullopt;
  return "invalid tag '" + tag + "': expected printable ascii (except `,` and `/`) or valid utf-8 "
         "sequences";
}

// The text of a map key (JsonNode has its own, json_node.h).
std::string keyText(const YAML::Node& n) { return n.as<std::string>(); }

// Walks one YAML node (or JsonNode), collecting errors with Kong-style field paths instead of
// throwing.
class Reader {
 public:
  explicit Reader(Errors& errors) : errors_(errors) {}

  void fail(const std::string& path, std::string message) {
    errors_.push_back(Error{path, std::move(message)});
  }

  template <class Node>
  bool isScalar(const Node& n, const std::string& path, const char* what) {
    if (n.IsScalar()) return true;
    fail(path, std::string("expected ") + what);
    return false;
  }

  template <class Node>
  std::optional<std::string> string(const Node& n, const std::string& path) {
    if (n.IsNull()) return std::nullopt;
    if (!isScalar(n, path, "a string")) return std::nullopt;
    // A JSON number or boolean is not a string: Kong's schema refuses {"key": 12345}. (YAML
    // stays lenient: kong.yml files and our own exports write such strings unquoted.)
    if (std::is_same_v<Node, JsonNode> && n.Tag() != "!" && plainNonString(n.Scalar())) {
      fail(path, "expected a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  template <class Node>
  std::optional<long long> integer(const Node& n, const std::string& path, long long lo,
                                   long long hi) {
    if (!isScalar(n, path, "an integer")) return std::nullopt;
    const std::string& s = n.Scalar();
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != s.size()) {
      fail(path, "expected an integer");
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      fail(path, "value should be between " + std::to_string(lo) + " and " + std::to_string(hi));
      return std::nullopt;
    }
    return v;
  }

  template <class Node>
  std::optional<bool> boolean(const Node& n, const std::string& path) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    fail(path, "expected a boolean");
    return std::nullopt;
  }

  template <class Node>
  std::vector<std::string> strings(const Node& n, const std::string& path) {
    std::vector<std::string> out;
    if (n.IsNull()) return out;
    if (!n.IsSequence()) {
      fail(path, "expected an array");
      return out;
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (auto s = string(n[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
    }
    return out;
  }

  // Kong's tags: printable ASCII except `,` and `/` (they separate tags in `?tags=`
  // filters), or UTF-8; not empty.
  template <class Node>
  std::vector<std::string> tags(const Node& n, const std::string& path) {
    std::vector<std::string> out = strings(n, path);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (auto e = checkTag(out[i])) fail(path + "[" + std::to_string(i) + "]", *e);
    }
    return out;
  }

 private:
  Errors& errors_;
};

const std::set<std::string> kProtocols = {"grpc", "grpcs",           "http", "https", "tcp",
                                          "tls",  "tls_passthrough", "udp"};
const std::set<std::string> kMethods = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                        "DELETE", "OPTIONS", "TRACE", "CONNECT"};

bool validHost(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          c == ':' || c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

// Kong: at most one `*`, only as the whole left-most or right-most label; optional `:port`.
bool validRouteHost(const std::string& h) {
  std::string name = h;
  if (auto colon = name.rfind(':');
      colon != std::string::npos && name.find(']') == std::string::npos) {
    std::string port = name.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) return false;
    name = name.substr(0, colon);
  }
  auto stars = std::count(name.begin(), name.end(), '*');
  if (stars > 1) return false;
  if (stars == 1) {
    bool left = name.rfind("*.", 0) == 0;
    bool right = name.size() >= 2 && name.compare(name.size() - 2, 2, ".*") == 0;
    if (!left && !right) return false;
    name = left ? name.substr(2) : name.substr(0, name.size() - 2);
  }
  return validHost(name);
}

std::string validatePath(const std::string& p) {
  if (p.rfind("~", 0) == 0) {
    if (p.size() < 2 || p[1] != '/') return "should start with: / (fixed path) or ~/ (regex path)";
    return {};  // RE2 compilation is checked when the router is built
  }
  if (p.empty() || p[0] != '/') return "should start with: / (fixed path) or ~/ (regex path)";
  if (p.find("//") != std::string::npos) return "must not have empty segments";
  return {};
}

template <class Node>
class Parser {
 public:
  explicit Parser(Errors& errors) : r_(errors), errors_(errors) {}

  core::Config parse(const Node& root) {
    core::Config config;
    if (!root.IsMap()) {
      r_.fail("", "expected a map at the top level of the declarative configuration");
      return config;
    }
    bool sawVersion = false;
    for (const auto& kv : root) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      if (key == "_format_version") {
        sawVersion = true;
        auto s = r_.string(v, key);
        if (s && *s != "1.1" && *s != "2.1" && *s != "3.0") {
          r_.fail(key, "unsupported value '" + *s + "', expected one of: 1.1, 2.1, 3.0");
        }
      } else if (key == "_transform" || key == "_comment" || key == "_ignore" ||
                 key == "_workspace" || key == "_info") {
        // metadata keys Kong accepts; nothing to do
      } else if (key == "services") {
        forEach(v, "services", [&](const Node& n, const std::string& path) {
          parseService(config, n, path);
        });
      } else if (key == "routes") {
        forEach(v, "routes", [&](const Node& n, const std::string& path) {
          parseRoute(config, n, path, nullptr);
        });
      } else if (key == "upstreams") {
        forEach(v, "upstreams", [&](const Node& n, const std::string& path) {
          parseUpstream(config, n, path);
        });
      } else if (key == "targets") {
        forEach(v, "targets", [&](const Node& n, const std::string& path) {
          parseTarget(config, n, path, nullptr);
        });
      } else if (key == "consumers") {
        forEach(v, "consumers", [&](const Node& n, const std::string& path) {
          parseConsumer(config, n, path);
        });
      } else if (key == "plugins") {
        forEach(v, "plugins", [&](const Node& n, const std::string& path) {
          parsePlugin(config, n, path, {});
        });
      } else if (key == "keyauth_credentials" || key == "basicauth_credentials" ||
                 key == "jwt_secrets" || key == "acls") {
        forEach(v, key, [&](const Node& n, const std::string& path) {
          parseCredential(config, key, n, path, nullptr);
        });
      } else if (key == "certificates") {
        forEach(v, key, [&](const Node& n, const std::string& path) {
          parseCertificate(config, n, path);
        });
      } else if (key == "snis") {
        forEach(v, key, [&](const Node& n, const std::string& path) {
          parseSni(config, n, path, nullptr);
        });
      } else if (key == "ca_certificates") {
        forEach(v, key, [&](const Node& n, const std::string& path) {
          parseCaCertificate(config, n, path);
        });
      } else if (key == "vaults" || key == "keys" || key == "key_sets") {
        if (!(v.IsSequence() && v.size() == 0) && !v.IsNull()) {
          r_.fail(key, "entity type not supported yet by this Archway version");
        }
      } else {
        r_.fail(key, "unknown field");
      }
    }
    if (!sawVersion) r_.fail("_format_version", "required field missing");
    return config;
  }

 private:
  template <class F>
  void forEach(const Node& v, const std::string& path, F&& f) {
    if (v.IsNull()) return;
    if (!v.IsSequence()) {
      r_.fail(path, "expected an array");
      return;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      if (!v[i].IsMap()) {
        r_.fail(p, "expected a record");
        continue;
      }
      f(v[i], p);
    }
  }

  void parseService(core::Config& config, const Node& n, const std::string& path) {
    core::Service s;
    s.createdAt = s.updatedAt = now_;
    std::optional<std::string> url;
    bool sawHost = false;
    std::vector<std::string> tlsFields;
    std::vector<std::pair<const Node, std::string>> nestedRoutes, nestedPlugins;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          s.id = *x;
        }
      } else if (key == "name") {
        s.name = r_.string(v, p);
      } else if (key == "url") {
        url = r_.string(v, p);
        if (url) {
          auto u = parseServiceUrl(*url);
          if (!u) {
            r_.fail(p, u.errors().front().message);
          } else {
            s.protocol = u->protocol;
            s.host = u->host;
            s.port = u->port;
            s.path = u->path;
          }
        }
      } else if (key == "protocol") {
        if (auto x = r_.string(v, p)) {
          if (!kProtocols.count(*x)) {
            r_.fail(p, "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp");
          } else {
            s.protocol = *x;
          }
        }
      } else if (key == "host") {
        sawHost = true;
        if (auto x = r_.string(v, p)) {
          if (!validHost(*x)) r_.fail(p, "invalid hostname: " + *x);
          s.host = *x;
        }
      } else if (key == "port") {
        if (auto x = r_.integer(v, p, 0, 65535)) s.port = static_cast<std::uint16_t>(*x);
      } else if (key == "path") {
        s.path = r_.string(v, p);
        if (s.path && (s.path->empty() || (*s.path)[0] != '/')) r_.fail(p, "should start with: /");
      } else if (key == "retries") {
        if (auto x = r_.integer(v, p, 0, 32767)) s.retries = static_cast<int>(*x);
      } else if (key == "connect_timeout" || key == "write_timeout" || key == "read_timeout") {
        if (auto x = r_.integer(v, p, 1, 2147483646)) {
          int& dst = key == "connect_timeout" ? s.connectTimeout
                     : key == "write_timeout" ? s.writeTimeout
                                              : s.readTimeout;
          dst = static_cast<int>(*x);
        }
      } else if (key == "enabled") {
        if (auto x = r_.boolean(v, p)) s.enabled = *x;
      } else if (key == "tags") {
        s.tags = r_.tags(v, p);
      } else if (key == "routes") {
        nestedRoutes.emplace_back(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? s.createdAt : s.updatedAt) = *x;
      } else if (key == "tls_verify") {
        if (!v.IsNull()) s.tlsVerify = r_.boolean(v, p);
        tlsFields.push_back(key);
      } else if (key == "tls_verify_depth") {
        if (!v.IsNull()) {
          if (auto x = r_.integer(v, p, 0, 64)) s.tlsVerifyDepth = static_cast<int>(*x);
          tlsFields.push_back(key);
        }
      } else if (key == "ca_certificates") {
        s.caCertificates = r_.strings(v, p);
        for (std::size_t i = 0; i < s.caCertificates.size(); ++i) {
          if (!core::isUuid(s.caCertificates[i]))
            r_.fail(p + "[" + std::to_string(i) + "]", "expected a valid UUID");
        }
        if (!s.caCertificates.empty()) tlsFields.push_back(key);
      } else if (key == "client_certificate") {
        s.clientCertificate = reference(v, p);
        if (s.clientCertificate) {
          if (!core::isUuid(*s.clientCertificate)) r_.fail(p + ".id", "expected a valid UUID");
          tlsFields.push_back(key);
        }
      } else if (key == "plugins") {
        nestedPlugins.emplace_back(v, p);
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (url && sawHost) r_.fail(path + ".url", "url and host are mutually exclusive");
    // Kong: the upstream TLS fields only make sense for https and tls services.
    if (s.protocol != "https" && s.protocol != "tls") {
      for (const auto& f : tlsFields) {
        if (f == "tls_verify" && !s.tlsVerify) continue;
        r_.fail(path + "." + f, "value must be null");
      }
    }
    if (s.host.empty() && !url) r_.fail(path + ".host", "required field missing");
    if (s.id.empty())
      s.id = core::uuid5(core::kConfigNamespace, "services:" + s.name.value_or(path));
    config.services.push_back(s);
    for (const auto& [v, p] : nestedPlugins) {
      forEach(v, p, [&](const Node& pn, const std::string& pp) {
        parsePlugin(config, pn, pp, Scope{std::nullopt, s.id, std::nullopt});
      });
    }
    for (const auto& [v, p] : nestedRoutes) {
      forEach(v, p, [&](const Node& rn, const std::string& rp) {
        parseRoute(config, rn, rp, &config.services.back());
      });
    }
  }

  void parseRoute(core::Config& config, const Node& n, const std::string& path,
                  const core::Service* parent) {
    core::Route r;
    r.createdAt = r.updatedAt = now_;
    std::optional<std::string> serviceRef;
    std::vector<std::pair<const Node, std::string>> nestedPlugins;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          r.id = *x;
        }
      } else if (key == "name") {
        r.name = r_.string(v, p);
      } else if (key == "protocols") {
        r.protocols = r_.strings(v, p);
        for (std::size_t i = 0; i < r.protocols.size(); ++i) {
          if (!kProtocols.count(r.protocols[i])) {
            r_.fail(p + "[" + std::to_string(i) + "]",
                    "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp");
          }
        }
      } else if (key == "methods") {
        r.methods = r_.strings(v, p);
        for (std::size_t i = 0; i < r.methods.size(); ++i) {
          const auto& m = r.methods[i];
          bool upper = !m.empty() && std::all_of(m.begin(), m.end(), [](char c) {
            return std::isupper(static_cast<unsigned char>(c)) != 0;
          });
          if (!upper) r_.fail(p + "[" + std::to_string(i) + "]", "invalid value: " + m);
        }
      } else if (key == "hosts") {
        r.hosts = r_.strings(v, p);
        for (std::size_t i = 0; i < r.hosts.size(); ++i) {
          if (!validRouteHost(r.hosts[i])) {
            r_.fail(p + "[" + std::to_string(i) + "]", "invalid hostname: " + r.hosts[i]);
          }
        }
      } else if (key == "paths") {
        r.paths = r_.strings(v, p);
        for (std::size_t i = 0; i < r.paths.size(); ++i) {
          if (auto e = validatePath(r.paths[i]); !e.empty()) {
            r_.fail(p + "[" + std::to_string(i) + "]", e);
          }
        }
      } else if (key == "headers") {
        if (v.IsNull()) continue;
        if (!v.IsMap()) {
          r_.fail(p, "expected a map");
          continue;
        }
        for (const auto& h : v) {
          std::string name = keyText(h.first);
          std::string hp = p + "." + name;
          if (name == "host" || name == "Host") {
            r_.fail(
                hp,
                "cannot contain 'host' header, which must be specified in the 'hosts' attribute");
            continue;
          }
          std::vector<std::string> values =
              h.second.IsSequence()
                  ? r_.strings(h.second, hp)
                  : std::vector<std::string>{r_.string(h.second, hp).value_or("")};
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          r.headers[name] = values;
        }
      } else if (key == "strip_path") {
        if (auto x = r_.boolean(v, p)) r.stripPath = *x;
      } else if (key == "preserve_host") {
        if (auto x = r_.boolean(v, p)) r.preserveHost = *x;
      } else if (key == "regex_priority") {
        if (auto x = r_.integer(v, p, INT32_MIN, INT32_MAX)) r.regexPriority = static_cast<int>(*x);
      } else if (key == "path_handling") {
        if (auto x = r_.string(v, p)) {
          if (*x != "v0" && *x != "v1") r_.fail(p, "expected one of: v0, v1");
          r.pathHandling = *x;
        }
      } else if (key == "https_redirect_status_code") {
        if (auto x = r_.integer(v, p, 0, 999)) {
          if (*x != 426 && *x != 301 && *x != 302 && *x != 307 && *x != 308) {
            r_.fail(p, "expected one of: 426, 301, 302, 307, 308");
          }
          r.httpsRedirectStatusCode = static_cast<int>(*x);
        }
      } else if (key == "request_buffering" || key == "response_buffering") {
        if (auto x = r_.boolean(v, p))
          (key == "request_buffering" ? r.requestBuffering : r.responseBuffering) = *x;
      } else if (key == "service") {
        if (parent) {
          r_.fail(p, "a nested route takes its service from its parent");
        } else if (v.IsNull()) {
          // a route without a service
        } else if (v.IsMap()) {
          if (v["id"])
            serviceRef = r_.string(v["id"], p + ".id");
          else if (v["name"])
            serviceRef = r_.string(v["name"], p + ".name");
          else
            r_.fail(p, "expected a record with id or name");
        } else {
          serviceRef = r_.string(v, p);
        }
      } else if (key == "tags") {
        r.tags = r_.tags(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? r.createdAt : r.updatedAt) = *x;
      } else if (key == "snis" || key == "sources" || key == "destinations") {
        // stream and TLS routing arrive with the data-plane issue
      } else if (key == "plugins") {
        nestedPlugins.emplace_back(v, p);
      } else {
        r_.fail(p, "unknown field");
      }
    }
    bool http = std::any_of(r.protocols.begin(), r.protocols.end(),
                            [](const std::string& p) { return p == "http" || p == "https"; });
    if (http && r.methods.empty() && r.hosts.empty() && r.headers.empty() && r.paths.empty()) {
      r_.fail(path,
              "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'");
    }
    if (parent) {
      r.serviceId = parent->id;
    } else if (serviceRef) {
      pendingRefs_.emplace_back(config.routes.size(), *serviceRef, path + ".service");
    }
    if (r.id.empty()) {
      std::string key = r.name ? *r.name : (parent ? parent->id + ":" : std::string()) + path;
      r.id = core::uuid5(core::kConfigNamespace, "routes:" + key);
    }
    const std::string routeId = r.id;
    config.routes.push_back(std::move(r));
    for (const auto& [v, p] : nestedPlugins) {
      forEach(v, p, [&](const Node& pn, const std::string& pp) {
        parsePlugin(config, pn, pp, Scope{routeId, std::nullopt, std::nullopt});
      });
    }
  }

  // ---- certificates, snis, ca_certificates (kong-reference §1.7) ----

  void parseCertificate(core::Config& config, const Node& n, const std::string& path) {
    core::Certificate c;
    c.createdAt = c.updatedAt = now_;
    std::optional<std::pair<Node, std::string>> nestedSnis;
    bool sawCert = false, sawKey = false;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          c.id = *x;
        }
      } else if (key == "cert" || key == "key") {
        if (auto x = r_.string(v, p)) {
          (key == "cert" ? c.cert : c.key) = *x;
          (key == "cert" ? sawCert : sawKey) = true;
          auto e = key == "cert" ? checkCertificatePem(*x) : checkKeyPem(*x);
          if (e) r_.fail(p, *e);
        }
      } else if (key == "cert_alt" || key == "key_alt") {
        auto& dst = key == "cert_alt" ? c.certAlt : c.keyAlt;
        dst = r_.string(v, p);
        if (dst) {
          auto e = key == "cert_alt" ? checkCertificatePem(*dst) : checkKeyPem(*dst);
          if (e) r_.fail(p, *e);
        }
      } else if (key == "tags") {
        c.tags = r_.tags(v, p);
      } else if (key == "snis") {
        if (!v.IsNull()) nestedSnis.emplace(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? c.createdAt : c.updatedAt) = *x;
      } else {
        r_.fail(p, "unknown field");
      }
    }
    const std::size_t before = errors_.size();
    if (!sawCert) r_.fail(path + ".cert", "required field missing");
    if (!sawKey) r_.fail(path + ".key", "required field missing");
    if (c.certAlt.has_value() != c.keyAlt.has_value())
      r_.fail(path, "all or none of these fields must be set: 'cert_alt', 'key_alt'");
    if (errors_.size() == before && sawCert && sawKey &&
        !checkCertificatePem(c.cert) && !checkKeyPem(c.key)) {
      if (!keyMatchesCertificate(c.cert, c.key)) r_.fail(path, "certificate does not match key");
      if (c.certAlt && c.keyAlt && !checkCertificatePem(*c.certAlt) && !checkKeyPem(*c.keyAlt)) {
        if (!keyMatchesCertificate(*c.certAlt, *c.keyAlt))
          r_.fail(path, "alternative certificate does not match key");
        else if (certificateKeyType(c.cert) == certificateKeyType(*c.certAlt))
          r_.fail(path,
                  "certificate and alternative certificate need to have different type (e.g. RSA "
                  "and ECDSA), the provided certificates were both of the same type");
      }
    }
    if (c.id.empty()) c.id = core::uuid5(core::kConfigNamespace, "certificates:" + c.cert + c.key);
    config.certificates.push_back(c);
    if (!nestedSnis) return;
    const auto& [v, p] = *nestedSnis;
    if (!v.IsSequence()) {
      r_.fail(p, "expected an array");
      return;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string sp = p + "[" + std::to_string(i) + "]";
      if (v[i].IsScalar()) {  // the Admin API's shorthand: a list of names
        core::Sni sni;
        sni.name = v[i].Scalar();
        sni.createdAt = sni.updatedAt = now_;
        if (auto e = checkSniName(sni.name)) r_.fail(sp, *e);
        sni.certificateId = c.id;
        sni.id = core::uuid5(core::kConfigNamespace, "snis:" + sni.name);
        config.snis.push_back(std::move(sni));
      } else if (v[i].IsMap()) {
        parseSni(config, v[i], sp, &config.certificates.back());
      } else {
        r_.fail(sp, "expected a record");
      }
    }
  }

  void parseSni(core::Config& config, const Node& n, const std::string& path,
                const core::Certificate* parent) {
    core::Sni sni;
    sni.createdAt = sni.updatedAt = now_;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          sni.id = *x;
        }
      } else if (key == "name") {
        if (auto x = r_.string(v, p)) {
          sni.name = *x;
          if (auto e = checkSniName(*x)) r_.fail(p, *e);
        }
      } else if (key == "certificate") {
        if (parent) {
          r_.fail(p, "a nested sni takes its certificate from its parent");
        } else if (auto x = reference(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p + ".id", "expected a valid UUID");
          sni.certificateId = *x;
        }
      } else if (key == "tags") {
        sni.tags = r_.tags(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? sni.createdAt : sni.updatedAt) = *x;
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (sni.name.empty()) r_.fail(path + ".name", "required field missing");
    if (parent)
      sni.certificateId = parent->id;
    else if (sni.certificateId.empty())
      r_.fail(path + ".certificate", "required field missing");
    if (sni.id.empty()) sni.id = core::uuid5(core::kConfigNamespace, "snis:" + sni.name);
    config.snis.push_back(std::move(sni));
  }

  void parseCaCertificate(core::Config& config, const Node& n, const std::string& path) {
    core::CaCertificate ca;
    ca.createdAt = ca.updatedAt = now_;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          ca.id = *x;
        }
      } else if (key == "cert") {
        if (auto x = r_.string(v, p)) {
          ca.cert = *x;
          // Expiry is checked on Admin API writes only: a stored CA that expires later must
          // not stop the node from loading its configuration.
          if (auto e = checkCertificatePem(*x))
            r_.fail(p, *e);
          else if (auto c = checkCaCertificatePem(*x, false))
            r_.fail(path, *c);  // an entity check in Kong: reported under @entity
        }
      } else if (key == "cert_digest") {
        r_.string(v, p);  // computed from cert, whatever the input says
      } else if (key == "tags") {
        ca.tags = r_.tags(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? ca.createdAt : ca.updatedAt) = *x;
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (ca.cert.empty()) r_.fail(path + ".cert", "required field missing");
    ca.certDigest = certificateDigest(ca.cert);
    if (ca.id.empty())
      ca.id = core::uuid5(core::kConfigNamespace, "ca_certificates:" + ca.certDigest);
    config.caCertificates.push_back(std::move(ca));
  }

  // ---- consumers, credentials, plugins ----

  // Where a nested plugin or credential sits: its parent's id.
  struct Scope {
    std::optional<std::string> route, service, consumer;
  };

  // An entity reference: "name-or-id" or {id: ...} / {name: ...} / {username: ...}.
  std::optional<std::string> reference(const Node& v, const std::string& p) {
    if (v.IsNull()) return std::nullopt;
    if (v.IsMap()) {
      for (const char* k : {"id", "name", "username"}) {
        if (v[k]) return r_.string(v[k], p + "." + k);
      }
      r_.fail(p, "expected a record with id or name");
      return std::nullopt;
    }
    return r_.string(v, p);
  }

  void parseConsumer(core::Config& config, const Node& n, const std::string& path) {
    core::Consumer c;
    c.createdAt = c.updatedAt = now_;
    std::vector<std::tuple<std::string, Node, std::string>> nested;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          c.id = *x;
        }
      } else if (key == "username") {
        c.username = r_.string(v, p);
      } else if (key == "custom_id") {
        c.customId = r_.string(v, p);
      } else if (key == "tags") {
        c.tags = r_.tags(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? c.createdAt : c.updatedAt) = *x;
      } else if (key == "plugins" || key == "keyauth_credentials" ||
                 key == "basicauth_credentials" || key == "jwt_secrets" || key == "acls") {
        nested.emplace_back(key, v, p);
      } else if (key == "groups") {
        // consumer groups are Kong Enterprise; accepted empty only
        if (!(v.IsSequence() && v.size() == 0) && !v.IsNull())
          r_.fail(p, "consumer groups are not supported by this Archway version");
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if ((!c.username || c.username->empty()) && (!c.customId || c.customId->empty())) {
      r_.fail(path, "at least one of these fields must be non-empty: 'custom_id', 'username'");
    }
    if (c.id.empty()) {
      c.id = core::uuid5(core::kConfigNamespace,
                         "consumers:" + c.username.value_or("") + ":" + c.customId.value_or(path));
    }
    config.consumers.push_back(c);
    for (const auto& [kind, v, p] : nested) {
      forEach(v, p, [&](const Node& en, const std::string& ep) {
        if (kind == "plugins")
          parsePlugin(config, en, ep, Scope{std::nullopt, std::nullopt, c.id});
        else
          parseCredential(config, kind, en, ep, &config.consumers.back());
      });
    }
  }

  static std::string sha1Hex(std::string_view text) {
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

  // keyauth_credentials, basicauth_credentials, jwt_secrets, acls: nested in a consumer
  // (`owner` set) or top level with a `consumer` reference.
  void parseCredential(core::Config& config, const std::string& kind, const Node& n,
                       const std::string& path, const core::Consumer* owner) {
    std::string id, consumerRef;
    std::vector<std::string> tags;
    std::int64_t createdAt = now_;
    std::map<std::string, std::string> fields;
    std::optional<int> ttl;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          id = *x;
        }
      } else if (key == "consumer") {
        if (owner) {
          r_.fail(p, "a nested credential takes its consumer from its parent");
        } else if (auto x = reference(v, p)) {
          consumerRef = *x;
        }
      } else if (key == "tags") {
        tags = r_.tags(v, p);
      } else if (key == "created_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX)) createdAt = *x;
      } else if (kind == "keyauth_credentials" && key == "ttl") {
        if (!v.IsNull()) {
          if (auto x = r_.integer(v, p, 0, 100000000)) ttl = static_cast<int>(*x);
        }
      } else if ((kind == "keyauth_credentials" && key == "key") ||
                 (kind == "basicauth_credentials" && (key == "username" || key == "password")) ||
                 (kind == "jwt_secrets" &&
                  (key == "key" || key == "secret" || key == "algorithm" ||
                   key == "rsa_public_key")) ||
                 (kind == "acls" && key == "group")) {
        if (auto x = r_.string(v, p)) fields[key] = *x;
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (!owner && consumerRef.empty()) r_.fail(path + ".consumer", "required field missing");
    const std::string consumerId = owner ? owner->id : std::string();
    auto required = [&](const char* f) {
      if (!fields.count(f) || fields[f].empty()) {
        r_.fail(path + "." + f, "required field missing");
        return false;
      }
      return true;
    };
    auto makeId = [&](const std::string& natural) {
      return id.empty() ? core::uuid5(core::kConfigNamespace, kind + ":" + natural) : id;
    };
    std::size_t index = 0;
    if (kind == "keyauth_credentials") {
      core::KeyAuthCredential k;
      // Kong generates a random key when none is given.
      k.key = fields.count("key") ? fields["key"] : core::uuid4();
      if (k.key.empty()) r_.fail(path + ".key", "length must be at least 1");
      k.id = makeId(k.key);
      k.consumerId = consumerId;
      k.ttl = ttl;
      k.tags = tags;
      k.createdAt = createdAt;
      index = config.keyauthCredentials.size();
      config.keyauthCredentials.push_back(std::move(k));
    } else if (kind == "basicauth_credentials") {
      core::BasicAuthCredential b;
      if (required("username")) b.username = fields["username"];
      if (required("password")) b.password = fields["password"];
      b.id = makeId(b.username);
      b.consumerId = consumerId;
      b.tags = tags;
      b.createdAt = createdAt;
      index = config.basicauthCredentials.size();
      config.basicauthCredentials.push_back(std::move(b));
    } else if (kind == "jwt_secrets") {
      core::JwtSecret j;
      j.key = fields.count("key") ? fields["key"] : core::uuid4();
      j.secret = fields.count("secret") ? fields["secret"] : core::uuid4();
      if (fields.count("algorithm")) {
        static const std::set<std::string> kAlgs = {
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256",
            "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"};
        if (!kAlgs.count(fields["algorithm"]))
          r_.fail(path + ".algorithm",
                  "expected one of: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, "
                  "ES512, PS256, PS384, PS512, EdDSA");
        j.algorithm = fields["algorithm"];
      }
      if (fields.count("rsa_public_key")) j.rsaPublicKey = fields["rsa_public_key"];
      if (j.algorithm[0] != 'H' && !j.rsaPublicKey)
        r_.fail(path + ".rsa_public_key",
                "required field missing");  // Kong: asymmetric algorithms need the public key
      j.id = makeId(j.key);
      j.consumerId = consumerId;
      j.tags = tags;
      j.createdAt = createdAt;
      index = config.jwtSecrets.size();
      config.jwtSecrets.push_back(std::move(j));
    } else {
      core::AclGroup a;
      if (required("group")) a.group = fields["group"];
      a.id = makeId(consumerId + ":" + a.group);
      a.consumerId = consumerId;
      a.tags = tags;
      a.createdAt = createdAt;
      index = config.acls.size();
      config.acls.push_back(std::move(a));
    }
    if (owner) {
      finishCredential(config, kind, index);
    } else if (!consumerRef.empty()) {
      pendingCredentialRefs_.push_back({kind, index, consumerRef, path + ".consumer", id.empty()});
    }
  }

  // Once the consumer is known: Kong hashes basic-auth passwords with the consumer id
  // (sha1(password .. consumer_id)). A value that already is such a hash (40 lower-case hex
  // digits, as an export or the store writes it) is kept as it is.
  void finishCredential(core::Config& config, const std::string& kind, std::size_t index) {
    if (kind != "basicauth_credentials") return;
    auto& b = config.basicauthCredentials[index];
    const bool hashed = b.password.size() == 40 &&
                        b.password.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hashed) b.password = sha1Hex(b.password + b.consumerId);
  }

  // A YAML value as JSON: plain scalars typed as YAML 1.2 core would type them, quoted ones
  // stay strings.
  static boost::json::value toJsonValue(const Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Sequence: {
        boost::json::array a;
        for (const auto& e : n) a.push_back(toJsonValue(e));
        return a;
      }
      case YAML::NodeType::Map: {
        boost::json::object o;
        for (const auto& kv : n) o[keyText(kv.first)] = toJsonValue(kv.second);
        return o;
      }
      case YAML::NodeType::Scalar: {
        const std::string& s = n.Scalar();
        if (n.Tag() == "!") return boost::json::string(s);
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
        if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
        if (!s.empty() && s.find_first_not_of("+-0123456789") == std::string::npos) {
          try {
            std::size_t used = 0;
            long long v = std::stoll(s, &used);
            if (used == s.size()) return v;
          } catch (...) {
          }
        }
        if (!s.empty() && s.find_first_not_of("+-0123456789.eE") == std::string::npos) {
          try {
            std::size_t used = 0;
            double d = std::stod(s, &used);
            if (used == s.size()) return d;
          } catch (...) {
          }
        }
        return boost::json::string(s);
      }
      default:
        return nullptr;
    }
  }

  void parsePlugin(core::Config& config, const Node& n, const std::string& path,
                   const Scope& scope) {
    core::Plugin pl;
    pl.createdAt = pl.updatedAt = now_;
    boost::json::value conf;  // null: all defaults
    std::optional<std::string> routeRef, serviceRef, consumerRef;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          pl.id = *x;
        }
      } else if (key == "name") {
        if (auto x = r_.string(v, p)) pl.name = *x;
      } else if (key == "instance_name") {
        pl.instanceName = r_.string(v, p);
      } else if (key == "config") {
        conf = toJsonValue(v);
      } else if (key == "enabled") {
        if (auto x = r_.boolean(v, p)) pl.enabled = *x;
      } else if (key == "protocols") {
        pl.protocols = r_.strings(v, p);
        for (std::size_t i = 0; i < pl.protocols.size(); ++i) {
          if (!kProtocols.count(pl.protocols[i]))
            r_.fail(p + "[" + std::to_string(i) + "]",
                    "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp");
        }
      } else if (key == "route" || key == "service" || key == "consumer") {
        const bool nestedHere = (key == "route" && scope.route) ||
                                (key == "service" && scope.service) ||
                                (key == "consumer" && scope.consumer);
        if (nestedHere) {
          r_.fail(p, "a nested plugin takes its " + key + " from its parent");
        } else {
          auto ref = reference(v, p);
          (key == "route" ? routeRef : key == "service" ? serviceRef : consumerRef) = ref;
        }
      } else if (key == "tags") {
        pl.tags = r_.tags(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? pl.createdAt : pl.updatedAt) = *x;
      } else if (key == "ordering") {
        // Kong Enterprise dynamic ordering; not supported
        if (!v.IsNull()) r_.fail(p, "dynamic plugin ordering is not supported by this Archway version");
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (pl.name.empty()) {
      r_.fail(path + ".name", "required field missing");
      return;
    }
    auto valid = plugins::validateConfig(pl.name, conf, path + ".config", false);
    if (!valid) {
      for (const auto& e : valid.errors()) r_.fail(e.path, e.message);
      return;
    }
    pl.config = *valid;
    pl.routeId = scope.route;
    pl.serviceId = scope.service;
    pl.consumerId = scope.consumer;
    const std::size_t index = config.plugins.size();
    config.plugins.push_back(std::move(pl));
    if (routeRef || serviceRef || consumerRef)
      pendingPluginRefs_.push_back({index, routeRef, serviceRef, consumerRef, path});
    else
      finishPluginId(config.plugins[index]);
  }

  static void finishPluginId(core::Plugin& p) {
    if (!p.id.empty()) return;
    p.id = core::uuid5(core::kConfigNamespace,
                       "plugins:" + p.name + ":" + p.routeId.value_or("") + ":" +
                           p.serviceId.value_or("") + ":" + p.consumerId.value_or("") + ":" +
                           p.instanceName.value_or(""));
  }

 public:
  void resolveRefs(core::Config& config) {
    // By id or name, as Config::find* (the first match wins; routes: the last), hashed: a
    // config of 10^5 consumers has 10^5 credential references to resolve.
    auto indexBy = [](const auto& all, auto name, bool lastWins) {
      using T = typename std::decay_t<decltype(all)>::value_type;
      std::unordered_map<std::string_view, const T*> byKey;
      byKey.reserve(all.size() * 2);
      for (const auto& e : all) {
        for (const std::string* key : {&e.id, name(e)}) {
          if (!key) continue;
          if (lastWins)
            byKey[*key] = &e;
          else
            byKey.emplace(*key, &e);
        }
      }
      return [byKey = std::move(byKey)](const std::string& key) -> const T* {
        auto it = byKey.find(key);
        return it == byKey.end() ? nullptr : it->second;
      };
    };
    auto optName = [](const auto& e) -> const std::string* { return e.name ? &*e.name : nullptr; };
    const auto findService = indexBy(config.services, optName, false);
    const auto findUpstream =
        indexBy(config.upstreams, [](const core::Upstream& u) { return &u.name; }, false);
    const auto findConsumer = indexBy(
        config.consumers,
        [](const core::Consumer& c) -> const std::string* {
          return c.username ? &*c.username : nullptr;
        },
        false);
    const auto findRoute = indexBy(config.routes, optName, true);
    for (const auto& [index, ref, path] : pendingRefs_) {
      if (const auto* s = findService(ref)) {
        config.routes[index].serviceId = s->id;
      } else {
        r_.fail(path, "could not find service '" + ref + "'");
      }
    }
    for (const auto& [index, ref, path] : pendingTargetRefs_) {
      if (const auto* u = findUpstream(ref)) {
        auto& t = config.targets[index];
        t.upstreamId = u->id;
        if (t.id.empty())
          t.id = core::uuid5(core::kConfigNamespace, "targets:" + u->id + ":" + t.target);
      } else {
        r_.fail(path, "could not find upstream '" + ref + "'");
      }
    }
    for (const auto& c : pendingCredentialRefs_) {
      const core::Consumer* consumer = findConsumer(c.ref);
      if (!consumer) {
        r_.fail(c.path, "could not find consumer '" + c.ref + "'");
        continue;
      }
      if (c.kind == "keyauth_credentials") {
        config.keyauthCredentials[c.index].consumerId = consumer->id;
      } else if (c.kind == "basicauth_credentials") {
        config.basicauthCredentials[c.index].consumerId = consumer->id;
      } else if (c.kind == "jwt_secrets") {
        config.jwtSecrets[c.index].consumerId = consumer->id;
      } else {
        auto& a = config.acls[c.index];
        a.consumerId = consumer->id;
        if (c.generatedId)
          a.id = core::uuid5(core::kConfigNamespace, "acls:" + consumer->id + ":" + a.group);
      }
      finishCredential(config, c.kind, c.index);
    }
    for (const auto& pr : pendingPluginRefs_) {
      auto& p = config.plugins[pr.index];
      if (pr.route) {
        if (const core::Route* found = findRoute(*pr.route))
          p.routeId = found->id;
        else
          r_.fail(pr.path + ".route", "could not find route '" + *pr.route + "'");
      }
      if (pr.service) {
        if (const auto* s = findService(*pr.service))
          p.serviceId = s->id;
        else
          r_.fail(pr.path + ".service", "could not find service '" + *pr.service + "'");
      }
      if (pr.consumer) {
        if (const auto* c = findConsumer(*pr.consumer))
          p.consumerId = c->id;
        else
          r_.fail(pr.path + ".consumer", "could not find consumer '" + *pr.consumer + "'");
      }
      finishPluginId(p);
    }
  }

 private:
  // Kong's status lists: integers 100..999.
  std::vector<int> statuses(const Node& v, const std::string& p) {
    std::vector<int> out;
    if (!v.IsSequence()) {
      r_.fail(p, "expected an array");
      return out;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (auto x = r_.integer(v[i], p + "[" + std::to_string(i) + "]", 100, 999))
        out.push_back(static_cast<int>(*x));
    }
    return out;
  }

  template <class F>
  void record(const Node& v, const std::string& p, F&& field) {
    if (v.IsNull()) return;
    if (!v.IsMap()) {
      r_.fail(p, "expected a record");
      return;
    }
    for (const auto& kv : v) {
      std::string key = keyText(kv.first);
      if (!field(key, kv.second, p + "." + key)) r_.fail(p + "." + key, "unknown field");
    }
  }

  // The fields a healthy/unhealthy record of a health check may have; null: not allowed here
  // (reported as an unknown field, as Kong's schema does).
  struct CheckFields {
    int* interval = nullptr;   // seconds, 0..65535
    int* successes = nullptr;  // counters, 0..255
    int* tcpFailures = nullptr;
    int* timeouts = nullptr;
    int* httpFailures = nullptr;
    std::vector<int>* statuses = nullptr;
  };
  void checkRecord(const Node& v, const std::string& p, CheckFields f) {
    record(v, p, [&](const std::string& k, const Node& n, const std::string& fp) {
      int* counter = k == "successes"       ? f.successes
                     : k == "tcp_failures"  ? f.tcpFailures
                     : k == "timeouts"      ? f.timeouts
                     : k == "http_failures" ? f.httpFailures
                                            : nullptr;
      if (counter) {
        if (auto x = r_.integer(n, fp, 0, 255)) *counter = static_cast<int>(*x);
      } else if (k == "interval" && f.interval) {
        if (auto x = r_.integer(n, fp, 0, 65535)) *f.interval = static_cast<int>(*x);
      } else if (k == "http_statuses" && f.statuses) {
        *f.statuses = statuses(n, fp);
      } else {
        return false;
      }
      return true;
    });
  }

  void parseHealthchecks(core::Healthchecks& hc, const Node& v, const std::string& p) {
    auto seconds = [&](const Node& n, const std::string& fp, int& dst) {
      if (auto x = r_.integer(n, fp, 0, 65535)) dst = static_cast<int>(*x);
    };
    auto type = [&](const Node& n, const std::string& fp, std::string& dst, bool active) {
      if (auto x = r_.string(n, fp)) {
        bool ok = *x == "tcp" || *x == "http" || *x == "https" ||
                  (active && (*x == "grpc" || *x == "grpcs"));
        if (!ok)
          r_.fail(fp, active ? "expected one of: tcp, http, https, grpc, grpcs"
                             : "expected one of: tcp, http, https");
        else
          dst = *x;
      }
    };
    record(v, p, [&](const std::string& key, const Node& n, const std::string& fp) {
      if (key == "threshold") {
        double t = -1;
        if (n.IsScalar()) {
          try {
            t = std::stod(n.Scalar());
          } catch (...) {
          }
        }
        if (t < 0 || t > 100)
          r_.fail(fp, "value should be between 0 and 100");
        else
          hc.threshold = t;
        return true;
      }
      if (key == "active") {
        auto& a = hc.active;
        record(n, fp, [&](const std::string& k, const Node& m, const std::string& mp) {
          if (k == "type")
            type(m, mp, a.type, true);
          else if (k == "timeout")
            seconds(m, mp, a.timeout);
          else if (k == "concurrency") {
            if (auto x = r_.integer(m, mp, 1, 2147483647)) a.concurrency = static_cast<int>(*x);
          } else if (k == "http_path") {
            if (auto x = r_.string(m, mp)) {
              if (x->empty() || (*x)[0] != '/') r_.fail(mp, "should start with: /");
              a.httpPath = *x;
            }
          } else if (k == "https_sni")
            a.httpsSni = r_.string(m, mp);
          else if (k == "https_verify_certificate") {
            if (auto x = r_.boolean(m, mp)) a.httpsVerifyCertificate = *x;
          } else if (k == "headers") {
            if (m.IsNull()) return true;
            if (!m.IsMap()) {
              r_.fail(mp, "expected a map");
              return true;
            }
            for (const auto& h : m)
              a.headers[keyText(h.first)] =
                  r_.strings(h.second, mp + "." + keyText(h.first));
          } else if (k == "healthy") {
            checkRecord(m, mp,
                        {.interval = &a.healthyInterval,
                         .successes = &a.healthySuccesses,
                         .statuses = &a.healthyHttpStatuses});
          } else if (k == "unhealthy") {
            checkRecord(m, mp,
                        {.interval = &a.unhealthyInterval,
                         .tcpFailures = &a.unhealthyTcpFailures,
                         .timeouts = &a.unhealthyTimeouts,
                         .httpFailures = &a.unhealthyHttpFailures,
                         .statuses = &a.unhealthyHttpStatuses});
          } else {
            return false;
          }
          return true;
        });
        return true;
      }
      if (key == "passive") {
        auto& ps = hc.passive;
        record(n, fp, [&](const std::string& k, const Node& m, const std::string& mp) {
          if (k == "type")
            type(m, mp, ps.type, false);
          else if (k == "healthy") {
            checkRecord(m, mp,
                        {.successes = &ps.healthySuccesses, .statuses = &ps.healthyHttpStatuses});
          } else if (k == "unhealthy") {
            checkRecord(m, mp,
                        {.tcpFailures = &ps.unhealthyTcpFailures,
                         .timeouts = &ps.unhealthyTimeouts,
                         .httpFailures = &ps.unhealthyHttpFailures,
                         .statuses = &ps.unhealthyHttpStatuses});
          } else {
            return false;
          }
          return true;
        });
        return true;
      }
      return false;
    });
  }

  void parseUpstream(core::Config& config, const Node& n, const std::string& path) {
    static const std::set<std::string> kHashOn = {"none",   "consumer", "ip",        "header",
                                                  "cookie", "path",     "query_arg", "uri_capture"};
    core::Upstream u;
    u.createdAt = u.updatedAt = now_;
    std::vector<std::pair<Node, std::string>> nestedTargets;
    bool sawAlgorithm = false;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      auto optString = [&](std::optional<std::string>& dst) { dst = r_.string(v, p); };
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          u.id = *x;
        }
      } else if (key == "name") {
        if (auto x = r_.string(v, p)) {
          unsigned char addr[16];
          bool isIp = inet_pton(AF_INET, x->c_str(), addr) == 1 ||
                      inet_pton(AF_INET6, x->c_str(), addr) == 1;
          if (isIp || !validHost(*x) || x->find(':') != std::string::npos) {
            r_.fail(p, "Invalid name ('" + *x + "'); must be a valid hostname");
          }
          u.name = *x;
        }
      } else if (key == "algorithm") {
        if (auto x = r_.string(v, p)) {
          if (*x != "round-robin" && *x != "consistent-hashing" && *x != "least-connections" &&
              *x != "latency") {
            r_.fail(p,
                    "expected one of: consistent-hashing, least-connections, round-robin, latency");
          }
          u.algorithm = *x;
          sawAlgorithm = true;
        }
      } else if (key == "hash_on" || key == "hash_fallback") {
        if (auto x = r_.string(v, p)) {
          if (!kHashOn.count(*x))
            r_.fail(p,
                    "expected one of: none, consumer, ip, header, cookie, path, query_arg, "
                    "uri_capture");
          (key == "hash_on" ? u.hashOn : u.hashFallback) = *x;
        }
      } else if (key == "hash_on_header")
        optString(u.hashOnHeader);
      else if (key == "hash_fallback_header")
        optString(u.hashFallbackHeader);
      else if (key == "hash_on_cookie")
        optString(u.hashOnCookie);
      else if (key == "hash_on_cookie_path") {
        if (auto x = r_.string(v, p)) u.hashOnCookiePath = *x;
      } else if (key == "hash_on_query_arg")
        optString(u.hashOnQueryArg);
      else if (key == "hash_fallback_query_arg")
        optString(u.hashFallbackQueryArg);
      else if (key == "hash_on_uri_capture")
        optString(u.hashOnUriCapture);
      else if (key == "hash_fallback_uri_capture")
        optString(u.hashFallbackUriCapture);
      else if (key == "slots") {
        if (auto x = r_.integer(v, p, 10, 65536)) u.slotCount = static_cast<int>(*x);
      } else if (key == "host_header")
        optString(u.hostHeader);
      else if (key == "use_srv_name") {
        if (auto x = r_.boolean(v, p)) u.useSrvName = *x;
      } else if (key == "healthchecks") {
        parseHealthchecks(u.healthchecks, v, p);
      } else if (key == "tags") {
        u.tags = r_.tags(v, p);
      } else if (key == "targets") {
        nestedTargets.emplace_back(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? u.createdAt : u.updatedAt) = *x;
      } else if (key == "client_certificate") {
        u.clientCertificate = reference(v, p);
        if (u.clientCertificate && !core::isUuid(*u.clientCertificate))
          r_.fail(p + ".id", "expected a valid UUID");
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (u.name.empty()) r_.fail(path + ".name", "required field missing");
    // Kong's entity checks and shorthands (kong-reference §1.3).
    if (u.hashOn != "none" && !sawAlgorithm) u.algorithm = "consistent-hashing";
    if (u.hashOn == "none" && u.hashFallback != "none") {
      r_.fail(path + ".hash_fallback", "must be 'none' when 'hash_on' is 'none'");
    }
    if (u.hashOn == "header" && !u.hashOnHeader)
      r_.fail(path + ".hash_on_header", "required field missing");
    if (u.hashFallback == "header" && !u.hashFallbackHeader)
      r_.fail(path + ".hash_fallback_header", "required field missing");
    if (u.hashOn == "header" && u.hashFallback == "header" &&
        u.hashOnHeader == u.hashFallbackHeader) {
      r_.fail(path + ".hash_fallback_header",
              "values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'");
    }
    if (u.hashOn == "cookie" && !u.hashOnCookie)
      r_.fail(path + ".hash_on_cookie", "required field missing");
    if (u.hashOn == "query_arg" && !u.hashOnQueryArg)
      r_.fail(path + ".hash_on_query_arg", "required field missing");
    if (u.hashOn == "uri_capture" && !u.hashOnUriCapture)
      r_.fail(path + ".hash_on_uri_capture", "required field missing");
    if (u.hashFallback == "query_arg" && !u.hashFallbackQueryArg)
      r_.fail(path + ".hash_fallback_query_arg", "required field missing");
    if (u.hashFallback == "uri_capture" && !u.hashFallbackUriCapture)
      r_.fail(path + ".hash_fallback_uri_capture", "required field missing");
    if (u.algorithm == "least-connections" || u.algorithm == "latency") {
      u.hashOn = "none";
      u.hashFallback = "none";
    }
    if (u.id.empty()) u.id = core::uuid5(core::kConfigNamespace, "upstreams:" + u.name);
    config.upstreams.push_back(u);
    for (const auto& [v, p] : nestedTargets) {
      forEach(v, p, [&](const Node& tn, const std::string& tp) {
        parseTarget(config, tn, tp, &config.upstreams.back());
      });
    }
  }

  void parseTarget(core::Config& config, const Node& n, const std::string& path,
                   const core::Upstream* parent) {
    core::Target t;
    t.createdAt = t.updatedAt = static_cast<double>(now_);
    std::optional<std::string> upstreamRef;
    for (const auto& kv : n) {
      const std::string key = keyText(kv.first);
      const Node& v = kv.second;
      const std::string p = path + "." + key;
      if (key == "id") {
        if (auto x = r_.string(v, p)) {
          if (!core::isUuid(*x)) r_.fail(p, "expected a valid UUID");
          t.id = *x;
        }
      } else if (key == "target") {
        if (auto x = r_.string(v, p)) {
          auto normalized = normalizeTarget(*x);
          if (normalized.empty())
            r_.fail(p, "Invalid target ('" + *x + "'); not a valid hostname or ip address");
          t.target = normalized;
        }
      } else if (key == "weight") {
        if (auto x = r_.integer(v, p, 0, 65535)) t.weight = static_cast<int>(*x);
      } else if (key == "upstream") {
        if (parent) {
          r_.fail(p, "a nested target takes its upstream from its parent");
        } else if (v.IsMap()) {
          if (v["id"])
            upstreamRef = r_.string(v["id"], p + ".id");
          else if (v["name"])
            upstreamRef = r_.string(v["name"], p + ".name");
          else
            r_.fail(p, "expected a record with id or name");
        } else {
          upstreamRef = r_.string(v, p);
        }
      } else if (key == "tags") {
        t.tags = r_.tags(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (v.IsScalar()) {
          try {
            (key == "created_at" ? t.createdAt : t.updatedAt) = std::stod(v.Scalar());
          } catch (...) {
            r_.fail(p, "expected a number");
          }
        } else {
          r_.fail(p, "expected a number");
        }
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (t.target.empty()) r_.fail(path + ".target", "required field missing");
    if (parent) {
      t.upstreamId = parent->id;
      if (t.id.empty())
        t.id = core::uuid5(core::kConfigNamespace, "targets:" + parent->id + ":" + t.target);
    } else if (upstreamRef) {
      pendingTargetRefs_.emplace_back(config.targets.size(), *upstreamRef, path + ".upstream");
    } else {
      r_.fail(path + ".upstream", "required field missing");
    }
    config.targets.push_back(std::move(t));
  }

  // "host", "host:port", "[v6]", "[v6]:port" -> "host:port" with Kong's default port 8000;
  // empty when invalid.
  static std::string normalizeTarget(const std::string& t) {
    std::string host = t, port = "8000";
    if (!t.empty() && t[0] == '[') {
      auto close = t.find(']');
      if (close == std::string::npos) return {};
      host = t.substr(0, close + 1);
      if (close + 1 < t.size()) {
        if (t[close + 1] != ':') return {};
        port = t.substr(close + 2);
      }
    } else if (auto colon = t.find(':'); colon != std::string::npos) {
      if (t.find(':', colon + 1) != std::string::npos) return {};  // bare IPv6 needs brackets
      host = t.substr(0, colon);
      port = t.substr(colon + 1);
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535 ||
        host.empty()) {
      return {};
    }
    if (host[0] != '[' && !validHost(host)) return {};
    return host + ":" + port;
  }

 private:
  Reader r_;
  Errors& errors_;
  std::int64_t now_ = nowSeconds();
  std::vector<std::tuple<std::size_t, std::string, std::string>> pendingRefs_;
  std::vector<std::tuple<std::size_t, std::string, std::string>> pendingTargetRefs_;
  struct CredentialRef {
    std::string kind;
    std::size_t index;
    std::string ref, path;
    bool generatedId;
  };
  std::vector<CredentialRef> pendingCredentialRefs_;
  struct PluginRef {
    std::size_t index;
    std::optional<std::string> route, service, consumer;
    std::string path;
  };
  std::vector<PluginRef> pendingPluginRefs_;
};

}  // namespace

core::Status validate(const core::Config& config) {
  using core::ViewPairSet;
  using core::ViewSet;
  Errors errors;
  // Flat hash sets of views into `config`, and paths formatted only for an error: this runs
  // over every entity (10^5 consumers and credentials and more) when a config is loaded.
  // validateChange() (validate_change.cpp) checks the same rules for a small change: a rule
  // added here must be added there too.
  auto at = [](const char* kind, std::size_t i) {
    return std::string(kind) + "[" + std::to_string(i) + "]";
  };
  ViewSet ids(config.services.size()), names(config.services.size());
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const auto& s = config.services[i];
    // A repeated name is reported once (ids derived from it repeat too).
    if (s.name && !names.insert(*s.name)) {
      errors.push_back({at("services", i) + ".name",
                        "UNIQUE violation detected on '{name=\"" + *s.name + "\"}'"});
    } else if (!ids.insert(s.id)) {
      errors.push_back({at("services", i) + ".id", "duplicate id " + s.id});
    }
  }
  ViewSet routeIds(config.routes.size()), routeNames(config.routes.size());
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const auto& r = config.routes[i];
    if (r.name && !routeNames.insert(*r.name)) {
      errors.push_back(
          {at("routes", i) + ".name", "UNIQUE violation detected on '{name=\"" + *r.name + "\"}'"});
    } else if (!routeIds.insert(r.id)) {
      errors.push_back({at("routes", i) + ".id", "duplicate id " + r.id});
    }
    if (r.serviceId && !ids.contains(*r.serviceId) && !names.contains(*r.serviceId)) {
      errors.push_back(
          {at("routes", i) + ".service", "could not find service '" + *r.serviceId + "'"});
    }
  }
  ViewSet upstreamIds(config.upstreams.size()), upstreamNames(config.upstreams.size());
  for (std::size_t i = 0; i < config.upstreams.size(); ++i) {
    const auto& u = config.upstreams[i];
    upstreamIds.insert(u.id);
    if (!upstreamNames.insert(u.name)) {
      errors.push_back({at("upstreams", i) + ".name",
                        "UNIQUE violation detected on '{name=\"" + u.name + "\"}'"});
    }
  }
  ViewPairSet targetKeys(config.targets.size());
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    const auto& t = config.targets[i];
    if (!t.upstreamId.empty() && !upstreamIds.contains(t.upstreamId) &&
        !upstreamNames.contains(t.upstreamId)) {
      errors.push_back(
          {at("targets", i) + ".upstream", "could not find upstream '" + t.upstreamId + "'"});
    }
    if (!targetKeys.insert({t.upstreamId, t.target})) {
      errors.push_back({at("targets", i) + ".target",
                        "UNIQUE violation detected on '{target=\"" + t.target + "\"}'"});
    }
  }
  ViewSet consumerIds(config.consumers.size()), usernames(config.consumers.size()), customIds;
  for (std::size_t i = 0; i < config.consumers.size(); ++i) {
    const auto& c = config.consumers[i];
    if (c.username && !usernames.insert(*c.username)) {
      errors.push_back({at("consumers", i) + ".username",
                        "UNIQUE violation detected on '{username=\"" + *c.username + "\"}'"});
    } else if (c.customId && !customIds.insert(*c.customId)) {
      errors.push_back({at("consumers", i) + ".custom_id",
                        "UNIQUE violation detected on '{custom_id=\"" + *c.customId + "\"}'"});
    } else if (!consumerIds.insert(c.id)) {
      errors.push_back({at("consumers", i) + ".id", "duplicate id " + c.id});
    }
  }
  auto consumerExists = [&](std::string_view id) { return consumerIds.contains(id); };
  ViewSet keys(config.keyauthCredentials.size());
  for (std::size_t i = 0; i < config.keyauthCredentials.size(); ++i) {
    const auto& k = config.keyauthCredentials[i];
    if (!keys.insert(k.key)) {
      errors.push_back({at("keyauth_credentials", i) + ".key",
                        "UNIQUE violation detected on '{key=\"" + k.key + "\"}'"});
    }
    if (!consumerExists(k.consumerId)) {
      errors.push_back({at("keyauth_credentials", i) + ".consumer",
                        "could not find consumer '" + k.consumerId + "'"});
    }
  }
  ViewSet basicNames(config.basicauthCredentials.size());
  for (std::size_t i = 0; i < config.basicauthCredentials.size(); ++i) {
    const auto& b = config.basicauthCredentials[i];
    if (!basicNames.insert(b.username)) {
      errors.push_back({at("basicauth_credentials", i) + ".username",
                        "UNIQUE violation detected on '{username=\"" + b.username + "\"}'"});
    }
    if (!consumerExists(b.consumerId)) {
      errors.push_back({at("basicauth_credentials", i) + ".consumer",
                        "could not find consumer '" + b.consumerId + "'"});
    }
  }
  ViewSet jwtKeys(config.jwtSecrets.size());
  for (std::size_t i = 0; i < config.jwtSecrets.size(); ++i) {
    const auto& j = config.jwtSecrets[i];
    if (!jwtKeys.insert(j.key)) {
      errors.push_back({at("jwt_secrets", i) + ".key",
                        "UNIQUE violation detected on '{key=\"" + j.key + "\"}'"});
    }
    if (!consumerExists(j.consumerId)) {
      errors.push_back(
          {at("jwt_secrets", i) + ".consumer", "could not find consumer '" + j.consumerId + "'"});
    }
  }
  ViewPairSet groups(config.acls.size());
  for (std::size_t i = 0; i < config.acls.size(); ++i) {
    const auto& a = config.acls[i];
    if (!groups.insert({a.consumerId, a.group})) {
      errors.push_back({at("acls", i) + ".group", "UNIQUE violation detected on '{consumer={id=\"" +
                                                      a.consumerId + "\"},group=\"" + a.group +
                                                      "\"}'"});
    }
    if (!consumerExists(a.consumerId)) {
      errors.push_back(
          {at("acls", i) + ".consumer", "could not find consumer '" + a.consumerId + "'"});
    }
  }
  ViewSet pluginIds(config.plugins.size());
  std::unordered_set<std::string> pluginScopes;
  for (std::size_t i = 0; i < config.plugins.size(); ++i) {
    const auto& pl = config.plugins[i];
    const std::string p = at("plugins", i);
    if (!pluginIds.insert(pl.id)) errors.push_back({p + ".id", "duplicate id " + pl.id});
    // Kong: one plugin of a name per scope (instance names aside).
    if (!pluginScopes.insert(pluginScope(pl)).second) {
      auto ref = [](const std::optional<std::string>& v) {
        return v ? "{id=\"" + *v + "\"}" : std::string("null");
      };
      errors.push_back({p, "UNIQUE violation detected on '{consumer=" + ref(pl.consumerId) +
                               ",name=\"" + pl.name + "\",route=" + ref(pl.routeId) +
                               ",service=" + ref(pl.serviceId) + "}'"});
    }
    if (pl.routeId && !routeIds.contains(*pl.routeId))
      errors.push_back({p + ".route", "could not find route '" + *pl.routeId + "'"});
    if (pl.serviceId && !ids.contains(*pl.serviceId) && !names.contains(*pl.serviceId))
      errors.push_back({p + ".service", "could not find service '" + *pl.serviceId + "'"});
    if (pl.consumerId && !consumerExists(*pl.consumerId))
      errors.push_back({p + ".consumer", "could not find consumer '" + *pl.consumerId + "'"});
  }
  ViewSet certificateIds(config.certificates.size());
  for (std::size_t i = 0; i < config.certificates.size(); ++i) {
    const auto& c = config.certificates[i];
    if (!certificateIds.insert(c.id))
      errors.push_back({at("certificates", i) + ".id", "duplicate id " + c.id});
  }
  ViewSet sniIds(config.snis.size()), sniNames(config.snis.size());
  for (std::size_t i = 0; i < config.snis.size(); ++i) {
    const auto& sn = config.snis[i];
    const std::string p = at("snis", i);
    if (!sniNames.insert(sn.name))
      errors.push_back({p + ".name", "UNIQUE violation detected on '{name=\"" + sn.name + "\"}'"});
    else if (!sniIds.insert(sn.id))
      errors.push_back({p + ".id", "duplicate id " + sn.id});
    if (!certificateIds.contains(sn.certificateId))
      errors.push_back(
          {p + ".certificate", "could not find certificate '" + sn.certificateId + "'"});
  }
  ViewSet caIds(config.caCertificates.size()), caDigests(config.caCertificates.size());
  for (std::size_t i = 0; i < config.caCertificates.size(); ++i) {
    const auto& ca = config.caCertificates[i];
    const std::string p = at("ca_certificates", i);
    if (!caDigests.insert(ca.certDigest))
      errors.push_back({p + ".cert_digest",
                        "UNIQUE violation detected on '{cert_digest=\"" + ca.certDigest + "\"}'"});
    else if (!caIds.insert(ca.id))
      errors.push_back({p + ".id", "duplicate id " + ca.id});
  }
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const auto& s = config.services[i];
    if (s.clientCertificate && !certificateIds.contains(*s.clientCertificate))
      errors.push_back({at("services", i) + ".client_certificate",
                        "could not find certificate '" + *s.clientCertificate + "'"});
    for (std::size_t j = 0; j < s.caCertificates.size(); ++j) {
      if (!caIds.contains(s.caCertificates[j]))
        errors.push_back({at("services", i) + ".ca_certificates[" + std::to_string(j) + "]",
                          "could not find ca_certificate '" + s.caCertificates[j] + "'"});
    }
  }
  for (std::size_t i = 0; i < config.upstreams.size(); ++i) {
    const auto& u = config.upstreams[i];
    if (u.clientCertificate && !certificateIds.contains(*u.clientCertificate))
      errors.push_back({at("upstreams", i) + ".client_certificate",
                        "could not find certificate '" + *u.clientCertificate + "'"});
  }
  if (!errors.empty()) return errors;
  return core::Ok{};
}

core::Result<core::Config> parseDeclarative(std::string_view text) {
  auto config = parseDeclarativeUnchecked(text);
  if (!config) return config;
  if (auto v = validate(*config); !v) return v.errors();
  return config;
}

namespace {

// Parses a YAML::Node or JsonNode tree.
template <class Node>
core::Result<core::Config> parseTree(const Node& root) {
  Errors errors;
  Parser<Node> parser(errors);
  core::Config config = parser.parse(root);
  parser.resolveRefs(config);
  if (!errors.empty()) return errors;
  return config;
}

}  // namespace

core::Result<core::Config> parseDeclarativeUnchecked(std::string_view text) {
  // JSON (what stores, the Admin API and most POST /config bodies hold) is read without the
  // YAML scanner, to the same entities (but a JSON number is no string, see Reader::string);
  // anything else, including JSON it refuses, as YAML.
  if (auto json = JsonDoc::parse(text)) return parseTree(json->root());
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error{"", "failed parsing declarative configuration: line " +
                         std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
  return parseTree(root);
}

core::Result<core::Config> loadDeclarativeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"config", "cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return parseDeclarative(ss.str());
}

}  // namespace archway::config
