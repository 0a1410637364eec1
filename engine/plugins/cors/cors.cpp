#include "plugins/cors/cors.h"

#include <re2/re2.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace archway::plugins {
namespace {

namespace json = boost::json;
namespace sc = schema;

const std::vector<std::string> kMethods = {"GET",    "HEAD",    "PUT",   "PATCH",  "POST",
                                           "DELETE", "OPTIONS", "TRACE", "CONNECT"};

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Kong's test for "this origin is a plain string, not a regex": ^[A-Za-z0-9.:/-]+$.
bool isPlainOrigin(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '.' && c != ':' && c != '/' && c != '-') return false;
  }
  return true;
}

// Kong's is_origin_provided: an empty Origin counts as none.
std::optional<std::string_view> requestOrigin(const Context& ctx) {
  std::string_view o = ctx.header("Origin");
  if (o.empty()) return std::nullopt;
  return o;
}

std::string joined(const json::value& v) {
  std::string out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (!out.empty()) out += ',';
    out += e.as_string();
  }
  return out;
}

// Lua's tostring(number): integers print without a fraction, others as %.14g.
std::string luaNumber(double d) {
  char buf[64];
  if (std::floor(d) == d && std::fabs(d) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
  } else {
    std::snprintf(buf, sizeof buf, "%.14g", d);
  }
  return buf;
}

std::string checkOrigin(const json::value& v) {
  const std::string s(v.as_string());
  if (s == "*") return {};
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(s, opts);
  if (re.ok()) return {};
  return "'" + s + "' is not a valid regex";
}

struct OriginEntry {
  std::unique_ptr<RE2> regex;  // null: a plain origin compared with `domain`
  std::string domain;
  bool byHost = false;  // a regex without ':' is matched against the Origin's host
};

class Cors final : public Instance {
 public:
  std::uint8_t phases() const override { return kAccess | kHeaderFilter; }

  void access(Context& ctx) const override {
    auto origin = requestOrigin(ctx);
    if (ctx.method != "OPTIONS" || !origin || !ctx.hasHeader("Access-Control-Request-Method"))
      return;
    // The preflight answer is complete (or the upstream answers it): header_filter must not
    // add the simple-request headers on top.
    ctx.scratch() = "preflight";
    if (preflightContinue_) return;

    bool allowAll = configureOrigin(ctx, false, origin);
    configureCredentials(ctx, allowAll, false, origin);

    if (allowHeaders_) {
      ctx.setResponseHeader("Access-Control-Allow-Headers", *allowHeaders_);
    } else if (ctx.hasHeader("Access-Control-Request-Headers")) {
      ctx.setResponseHeader("Access-Control-Allow-Headers",
                            ctx.header("Access-Control-Request-Headers"));
    } else {
      ctx.removeResponseHeader("Access-Control-Allow-Headers");
    }
    ctx.setResponseHeader("Access-Control-Allow-Methods", methods_);
    if (maxAge_) ctx.setResponseHeader("Access-Control-Max-Age", *maxAge_);
    if (privateNetwork_ && ctx.header("Access-Control-Request-Private-Network") == "true")
      ctx.setResponseHeader("Access-Control-Allow-Private-Network", "true");
    // kong.response.exit(200): no body, no content type.
    ctx.exit(200, {}, {});
  }

  void headerFilter(Context& ctx) const override {
    if (!ctx.scratch().empty()) return;
    auto origin = requestOrigin(ctx);
    if (!origin && !allowOriginAbsent_) return;
    bool allowAll = configureOrigin(ctx, true, origin);
    configureCredentials(ctx, allowAll, true, origin);
    if (exposeHeaders_) ctx.setResponseHeader("Access-Control-Expose-Headers", *exposeHeaders_);
  }

  // Kong's configure_origin; true when every origin is allowed ("*").
  bool configureOrigin(Context& ctx, bool headerFilter,
                       std::optional<std::string_view> origin) const {
    if (allowAll_) {
      ctx.setResponseHeader("Access-Control-Allow-Origin", "*");
      return true;
    }
    // Always vary on Origin: caches must not serve one origin's answer to another.
    addVary(ctx, headerFilter);
    if (fixedOrigin_) {
      ctx.setResponseHeader("Access-Control-Allow-Origin", *fixedOrigin_);
      return false;
    }
    if (origin) {
      // Kong returns "*" as soon as its entry loop meets "*", before comparing anything.
      if (listHasStar_) {
        ctx.setResponseHeader("Access-Control-Allow-Origin", "*");
        return true;
      }
      thread_local cors::NormalizedOrigin norm;
      normalizeInto(*origin, norm);
      for (const auto& e : entries_) {
        bool found = false;
        if (e.regex) {
          const std::string& subject = e.byHost ? norm.host : norm.domain;
          found = e.regex->Match(subject, 0, subject.size(), RE2::ANCHOR_START, nullptr, 0);
        } else {
          found = norm.domain == e.domain;
        }
        if (found) {
          ctx.setResponseHeader("Access-Control-Allow-Origin", norm.domain);
          return false;
        }
      }
    }
    ctx.removeResponseHeader("Access-Control-Allow-Origin");
    return false;
  }

  void configureCredentials(Context& ctx, bool allowAll, bool headerFilter,
                            std::optional<std::string_view> origin) const {
    if (!credentials_) return;
    if (!allowAll) {
      ctx.setResponseHeader("Access-Control-Allow-Credentials", "true");
      return;
    }
    // "*" cannot go with credentials: echo the request's Origin instead.
    if (origin) {
      addVary(ctx, headerFilter);
      ctx.setResponseHeader("Access-Control-Allow-Origin", *origin);
      ctx.setResponseHeader("Access-Control-Allow-Credentials", "true");
    }
  }

  static void addVary(Context& ctx, bool headerFilter) {
    // On a normal response the upstream's Vary is kept; the preflight answer is ours alone.
    if (headerFilter)
      ctx.addResponseHeader("Vary", "Origin");
    else
      ctx.setResponseHeader("Vary", "Origin");
  }

  static void normalizeInto(std::string_view origin, cors::NormalizedOrigin& out);

  bool allowAll_ = false;
  bool listHasStar_ = false;
  std::optional<std::string> fixedOrigin_;
  std::vector<OriginEntry> entries_;
  std::string methods_;
  std::optional<std::string> allowHeaders_, exposeHeaders_, maxAge_;
  bool credentials_ = false, privateNetwork_ = false, preflightContinue_ = false,
       allowOriginAbsent_ = true;
};

// LuaSocket's url.parse, as far as normalize_origin uses it: scheme ("^[%w][%w+-.]*:"), then an
// authority after "//" up to the next '/', its userinfo ("...@"), a port after the last ':'
// unless a ':' or ']' follows, and IPv6 brackets stripped from the host.
void Cors::normalizeInto(std::string_view origin, cors::NormalizedOrigin& out) {
  std::string_view rest = origin;
  std::string_view scheme;
  bool hasScheme = false;
  if (!rest.empty() && isAlnum(rest[0])) {
    std::size_t i = 1;
    while (i < rest.size() &&
           (isAlnum(rest[i]) || rest[i] == '+' || rest[i] == '-' || rest[i] == '.'))
      ++i;
    if (i < rest.size() && rest[i] == ':') {
      scheme = rest.substr(0, i);
      hasScheme = true;
      rest.remove_prefix(i + 1);
    }
  }
  std::string_view host;
  bool hasHost = false;
  std::string_view port;
  bool hasPort = false;  // LuaSocket keeps an empty port ("host:") as a port
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    std::string_view authority = rest.substr(0, rest.find('/'));
    if (auto at = authority.find('@'); at != std::string_view::npos)
      authority.remove_prefix(at + 1);
    if (auto colon = authority.rfind(':');
        colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
      port = authority.substr(colon + 1);
      hasPort = true;
      authority = authority.substr(0, colon);
    }
    if (!authority.empty()) {
      hasHost = true;
      host = authority;
      if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    }
  }
  if (!hasHost) {
    out.domain.assign(origin);
    out.host.assign(origin);
    return;
  }
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) hasPort = false;
  out.domain.clear();
  if (hasScheme) {
    out.domain.append(scheme);
    out.domain.append("://");
  }
  out.domain.append(host);
  if (hasPort) {
    out.domain += ':';
    out.domain.append(port);
  }
  out.host.assign(host);
}

class CorsFactory final : public Factory {
 public:
  CorsFactory() {
    schema_.name = "cors";
    schema_.protocols = {"http", "https"};
    json::array methods;
    for (const auto& m : kMethods) methods.push_back(json::string(m));
    schema_.fields = {
        sc::arrayOf("origins", sc::str("").validate(checkOrigin))
            .describe("Allowed origins: plain strings, regexes, or \"*\"; empty allows all."),
        sc::arrayOf("headers", sc::str("")),
        sc::arrayOf("exposed_headers", sc::str("")),
        sc::arrayOf("methods", sc::str("").one(kMethods)).def(methods),
        sc::number("max_age"),
        sc::boolean("credentials").req().def(false),
        sc::boolean("private_network").req().def(false),
        sc::boolean("preflight_continue").req().def(false),
        sc::boolean("allow_origin_absent").req().def(true),
    };
  }

  std::string_view name() const override { return "cors"; }
  int priority() const override { return 2000; }
  const sc::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv&) const override {
    auto inst = std::make_shared<Cors>();
    std::vector<std::string> origins;
    if (const auto& o = config.at("origins"); o.is_array()) {
      for (const auto& e : o.as_array()) origins.emplace_back(e.as_string());
    }
    if (origins.empty() || (origins.size() == 1 && origins[0] == "*")) {
      inst->allowAll_ = true;
    } else if (origins.size() == 1 && isPlainOrigin(origins[0])) {
      inst->fixedOrigin_ = origins[0];
    } else {
      for (std::size_t i = 0; i < origins.size(); ++i) {
        std::string entry = origins[i];
        if (entry == "*") {
          inst->listHasStar_ = true;
          continue;
        }
        OriginEntry oe;
        oe.byHost = entry.find(':') == std::string::npos;
        if (isPlainOrigin(entry)) {
          oe.domain = cors::normalizeOrigin(entry).domain;
        } else {
          // Kong 0.x did not anchor regexes; Kong anchors them now at both ends, keeping a
          // user's own anchors working.
          if (entry.back() != '$') entry += '$';
          if (entry.front() == '^') entry.erase(0, 1);
          RE2::Options opts;
          opts.set_log_errors(false);
          oe.regex = std::make_unique<RE2>(entry, opts);
          if (!oe.regex->ok())
            return core::Error{"config.origins[" + std::to_string(i) + "]",
                               "'" + origins[i] + "' is not a valid regex"};
        }
        inst->entries_.push_back(std::move(oe));
      }
    }
    inst->methods_ = joined(config.at("methods"));
    if (const auto& h = config.at("headers"); h.is_array() && !h.as_array().empty())
      inst->allowHeaders_ = joined(h);
    if (const auto& h = config.at("exposed_headers"); h.is_array() && !h.as_array().empty())
      inst->exposeHeaders_ = joined(h);
    if (const auto& m = config.at("max_age"); !m.is_null())
      inst->maxAge_ = luaNumber(m.to_number<double>());
    inst->credentials_ = config.at("credentials").as_bool();
    inst->privateNetwork_ = config.at("private_network").as_bool();
    inst->preflightContinue_ = config.at("preflight_continue").as_bool();
    inst->allowOriginAbsent_ = config.at("allow_origin_absent").as_bool();
    return std::shared_ptr<const Instance>(std::move(inst));
  }

 private:
  sc::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeCorsPlugin() {
  return std::make_unique<CorsFactory>();
}

namespace cors {
NormalizedOrigin normalizeOrigin(std::string_view origin) {
  NormalizedOrigin out;
  Cors::normalizeInto(origin, out);
  return out;
}
}  // namespace cors

}  // namespace archway::plugins
