#include "config/export.h"

#include <cctype>
#include <charconv>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <mutex>
#include <openssl/evp.h>

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

// YAML text of the export, block style, written directly: yaml-cpp's emitter runs regular
// expressions over every scalar and takes seconds for 10^5 entities. Strings are always
// double-quoted ("true", "123" or "~/x" must stay strings) with JSON's escapes, which YAML's
// double-quoted style shares; the characters YAML does not allow raw (DEL, C1 controls) are
// escaped too.
void scalarText(std::string& out, std::string_view s) {
  const std::string text = json::serialize(json::string_view(s.data(), s.size()));
  // DEL and U+0080..U+009F (C2 80..C2 9F in UTF-8) are printable in JSON, not in YAML.
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (c == 0x7f) {
      out += "\\u007f";
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[next >> 4];
      out += kHex[next & 0xf];
      ++i;
    } else {
      out += text[i];
    }
  }
}

// A key written plain when YAML reads it back as the same string.
void keyText(std::string& out, std::string_view k) {
  static const std::string_view kWords[] = {"true", "false", "null", "yes", "no",
                                            "on",   "off",   "y",    "n",   "~"};
  bool plain = !k.empty() && (std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_');
  for (char c : k)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (plain) {
    std::string lower(k);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto w : kWords) plain = plain && lower != w;
  }
  if (plain)
    out += k;
  else
    scalarText(out, k);
}

bool isEmptyContainer(const json::value& v) {
  return (v.is_object() && v.as_object().empty()) || (v.is_array() && v.as_array().empty());
}

void emit(std::string& out, const json::value& v, std::size_t indent);

// A value after "key:" or "- ": scalars and empty containers on the same line, containers on
// the next lines, indented.
void emitAfter(std::string& out, const json::value& v, std::size_t indent) {
  if (v.is_object() && !v.as_object().empty()) {
    out += '\n';
    emit(out, v, indent);
  } else if (v.is_array() && !v.as_array().empty()) {
    out += '\n';
    emit(out, v, indent);
  } else {
    out += ' ';
    emit(out, v, indent);
  }
}

void emit(std::string& out, const json::value& v, std::size_t indent) {
  switch (v.kind()) {
    case json::kind::object: {
      if (v.as_object().empty()) {
        out += "{}\n";
        break;
      }
      for (const auto& [k, x] : v.as_object()) {
        out.append(indent, ' ');
        keyText(out, k);
        out += ':';
        emitAfter(out, x, indent + 2);
      }
      break;
    }
    case json::kind::array: {
      if (v.as_array().empty()) {
        out += "[]\n";
        break;
      }
      for (const auto& x : v.as_array()) {
        out.append(indent, ' ');
        out += '-';
        if (x.is_object() && !isEmptyContainer(x)) {
          // The first key on the dash's line, the others under it.
          std::string item;
          emit(item, x, indent + 2);
          out += ' ';
          out.append(item, indent + 2, std::string::npos);
        } else {
          emitAfter(out, x, indent + 2);
        }
      }
      break;
    }
    case json::kind::string:
      scalarText(out, v.as_string());
      out += '\n';
      break;
    case json::kind::null:
      out += "null\n";
      break;
    case json::kind::double_: {
      // The shortest text that reads back the same, and that still reads as a float.
      char buf[64];
      const auto end = std::to_chars(buf, buf + sizeof buf, v.as_double()).ptr;
      const std::string_view text(buf, static_cast<std::size_t>(end - buf));
      out += text;
      if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
      out += '\n';
      break;
    }
    default:  // integers and booleans
      out += json::serialize(v);
      out += '\n';
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
  std::string out;
  emit(out, exportJson(config), 0);
  return out;
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
  // The JSON text of the export: the same document as exportYaml(), without yaml-cpp's
  // emitter (seconds for 10^5 entities).
  const std::string text = json::serialize(exportJson(c));
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

std::string configHash(const std::shared_ptr<const core::Config>& config) {
  static const core::Config kEmpty;
  if (!config) return configHash(kEmpty);
  // The last config asked for and its hash. Owners compare equal only for the same object: an
  // expired weak_ptr keeps its control block, so no other config can share it.
  static std::mutex mutex;
  static std::weak_ptr<const core::Config> last;
  static std::string lastHash;
  {
    std::lock_guard lock(mutex);
    if (!last.owner_before(config) && !config.owner_before(last) && !last.expired())
      return lastHash;
  }
  std::string hash = configHash(*config);
  std::lock_guard lock(mutex);
  last = config;
  lastHash = hash;
  return hash;
}

}  // namespace archway::config
