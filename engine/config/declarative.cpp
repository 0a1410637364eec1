#include "config/declarative.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "config/url.h"
#include "core/uuid.h"

namespace archway::config {
namespace {

using core::Error;
using core::Errors;

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Walks one YAML node, collecting errors with Kong-style field paths instead of throwing.
class Reader {
 public:
  explicit Reader(Errors& errors) : errors_(errors) {}

  void fail(const std::string& path, std::string message) {
    errors_.push_back(Error{path, std::move(message)});
  }

  bool isScalar(const YAML::Node& n, const std::string& path, const char* what) {
    if (n.IsScalar()) return true;
    fail(path, std::string("expected ") + what);
    return false;
  }

  std::optional<std::string> string(const YAML::Node& n, const std::string& path) {
    if (n.IsNull()) return std::nullopt;
    if (!isScalar(n, path, "a string")) return std::nullopt;
    return n.Scalar();
  }

  std::optional<long long> integer(const YAML::Node& n, const std::string& path, long long lo,
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

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    fail(path, "expected a boolean");
    return std::nullopt;
  }

  std::vector<std::string> strings(const YAML::Node& n, const std::string& path) {
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

class Parser {
 public:
  explicit Parser(Errors& errors) : r_(errors), errors_(errors) {}

  core::Config parse(const YAML::Node& root) {
    core::Config config;
    if (!root.IsMap()) {
      r_.fail("", "expected a map at the top level of the declarative configuration");
      return config;
    }
    bool sawVersion = false;
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
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
        forEach(v, "services", [&](const YAML::Node& n, const std::string& path) {
          parseService(config, n, path);
        });
      } else if (key == "routes") {
        forEach(v, "routes", [&](const YAML::Node& n, const std::string& path) {
          parseRoute(config, n, path, nullptr);
        });
      } else if (key == "upstreams" || key == "targets" || key == "consumers" || key == "plugins" ||
                 key == "certificates" || key == "snis" || key == "ca_certificates" ||
                 key == "keyauth_credentials" || key == "acls" || key == "basicauth_credentials" ||
                 key == "jwt_secrets" || key == "vaults" || key == "keys" || key == "key_sets") {
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
  void forEach(const YAML::Node& v, const std::string& path, F&& f) {
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

  void parseService(core::Config& config, const YAML::Node& n, const std::string& path) {
    core::Service s;
    s.createdAt = s.updatedAt = now_;
    std::optional<std::string> url;
    bool sawHost = false;
    std::vector<std::pair<const YAML::Node, std::string>> nestedRoutes;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
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
        s.tags = r_.strings(v, p);
      } else if (key == "routes") {
        nestedRoutes.emplace_back(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? s.createdAt : s.updatedAt) = *x;
      } else if (key == "tls_verify" || key == "tls_verify_depth" || key == "ca_certificates" ||
                 key == "client_certificate") {
        // accepted for compatibility; TLS upstreams arrive with the data-plane issue
      } else if (key == "plugins") {
        if (!(v.IsSequence() && v.size() == 0) && !v.IsNull()) {
          r_.fail(p, "entity type not supported yet by this Archway version");
        }
      } else {
        r_.fail(p, "unknown field");
      }
    }
    if (url && sawHost) r_.fail(path + ".url", "url and host are mutually exclusive");
    if (s.host.empty() && !url) r_.fail(path + ".host", "required field missing");
    if (s.id.empty())
      s.id = core::uuid5(core::kConfigNamespace, "services:" + s.name.value_or(path));
    config.services.push_back(s);
    for (const auto& [v, p] : nestedRoutes) {
      forEach(v, p, [&](const YAML::Node& rn, const std::string& rp) {
        parseRoute(config, rn, rp, &config.services.back());
      });
    }
  }

  void parseRoute(core::Config& config, const YAML::Node& n, const std::string& path,
                  const core::Service* parent) {
    core::Route r;
    r.createdAt = r.updatedAt = now_;
    std::optional<std::string> serviceRef;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
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
          std::string name = h.first.as<std::string>();
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
        r.tags = r_.strings(v, p);
      } else if (key == "created_at" || key == "updated_at") {
        if (auto x = r_.integer(v, p, 0, INT64_MAX))
          (key == "created_at" ? r.createdAt : r.updatedAt) = *x;
      } else if (key == "snis" || key == "sources" || key == "destinations") {
        // stream and TLS routing arrive with the data-plane issue
      } else if (key == "plugins") {
        if (!(v.IsSequence() && v.size() == 0) && !v.IsNull()) {
          r_.fail(p, "entity type not supported yet by this Archway version");
        }
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
    config.routes.push_back(std::move(r));
  }

 public:
  void resolveRefs(core::Config& config) {
    for (const auto& [index, ref, path] : pendingRefs_) {
      if (const auto* s = config.findService(ref)) {
        config.routes[index].serviceId = s->id;
      } else {
        r_.fail(path, "could not find service '" + ref + "'");
      }
    }
  }

 private:
  Reader r_;
  Errors& errors_;
  std::int64_t now_ = nowSeconds();
  std::vector<std::tuple<std::size_t, std::string, std::string>> pendingRefs_;
};

}  // namespace

core::Status validate(const core::Config& config) {
  Errors errors;
  std::set<std::string> ids, names;
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const auto& s = config.services[i];
    const std::string p = "services[" + std::to_string(i) + "]";
    // A repeated name is reported once (ids derived from it repeat too).
    if (s.name && !names.insert(*s.name).second) {
      errors.push_back({p + ".name", "UNIQUE violation detected on '{name=\"" + *s.name + "\"}'"});
    } else if (!ids.insert(s.id).second) {
      errors.push_back({p + ".id", "duplicate id " + s.id});
    }
  }
  std::set<std::string> routeIds, routeNames;
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const auto& r = config.routes[i];
    const std::string p = "routes[" + std::to_string(i) + "]";
    if (r.name && !routeNames.insert(*r.name).second) {
      errors.push_back({p + ".name", "UNIQUE violation detected on '{name=\"" + *r.name + "\"}'"});
    } else if (!routeIds.insert(r.id).second) {
      errors.push_back({p + ".id", "duplicate id " + r.id});
    }
    if (r.serviceId && !config.findService(*r.serviceId)) {
      errors.push_back({p + ".service", "could not find service '" + *r.serviceId + "'"});
    }
  }
  if (!errors.empty()) return errors;
  return core::Ok{};
}

core::Result<core::Config> parseDeclarative(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error{"", "failed parsing declarative configuration: line " +
                         std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
  Errors errors;
  Parser parser(errors);
  core::Config config = parser.parse(root);
  parser.resolveRefs(config);
  if (!errors.empty()) return errors;
  if (auto v = validate(config); !v) return v.errors();
  return config;
}

core::Result<core::Config> loadDeclarativeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"config", "cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return parseDeclarative(ss.str());
}

}  // namespace archway::config
