#include "plugins/proxy_cache/proxy_cache.h"

#include <boost/json.hpp>
#include <charconv>
#include <optional>
#include <vector>

#include "plugins/proxy_cache/cache_control.h"
#include "plugins/proxy_cache/cache_key.h"
#include "plugins/response_transformer/mime_type.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;
namespace sc = schema;
namespace pc = proxy_cache;

constexpr int kCacheVersion = 1;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Kong's overwritable_header: hop-by-hop headers, Content-Length and rate-limit counters are
// never replayed from the cache.
bool overwritable(std::string_view name) {
  static constexpr std::string_view kHopByHop[] = {
      "connection",          "keep-alive", "proxy-authenticate",
      "proxy-authorization", "te",         "trailers",
      "transfer-encoding",   "upgrade",    "content-length"};
  for (auto h : kHopByHop) {
    if (iequals(name, h)) return false;
  }
  static constexpr std::string_view kRateLimit = "ratelimit-remaining";
  for (std::size_t i = 0; i + kRateLimit.size() <= name.size(); ++i) {
    if (iequals(name.substr(i, kRateLimit.size()), kRateLimit)) return false;
  }
  return true;
}

// Every value of a request header, joined as nginx joins a repeated Cache-Control.
std::string joinedRequestHeader(const Context& ctx, std::string_view name) {
  std::string out;
  for (auto v : ctx.headers(name)) {
    if (!out.empty()) out += ", ";
    out.append(v);
  }
  return out;
}

// The response headers as they stand when this plugin's header_filter runs: the upstream's
// (or an exit's) with every edit made so far. Views into ctx; valid while ctx is unchanged.
void responseSnapshot(const Context& ctx,
                      std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  ctx.forEachResponseHeader(
      [p = &out](std::string_view n, std::string_view v) { p->emplace_back(n, v); });
  for (const auto& e : ctx.responseEdits) {
    if (e.op != HeaderEdit::Op::add) {
      std::erase_if(out, [&](const auto& h) { return iequals(h.first, e.name); });
    }
    if (e.op != HeaderEdit::Op::remove) out.emplace_back(e.name, e.value);
  }
}

class ProxyCache final : public Instance {
 public:
  std::uint8_t phases() const override { return kAccess | kHeaderFilter | kBodyFilter; }
  bool needsResponseBody() const override { return true; }

  void access(Context& ctx) const override {
    const bool debug = ctx.hasHeader("Kong-Debug");
    pc::CacheControl cc;
    if (cacheControl_) cc = pc::parseCacheControl(joinedRequestHeader(ctx, "Cache-Control"));
    if (!cacheableRequest(ctx, cc)) {
      setHeader(ctx, debug, headerStatus_, "X-Cache-Status", "Bypass");
      return;
    }
    std::string key = pc::buildCacheKey(ctx, ctx.requestEdits.size(), ignoreUriCase_,
                                        varyQueryParams_, varyHeaders_);
    setHeader(ctx, debug, headerKey_, "X-Cache-Key", key);

    auto res = store_->get(key);
    if (!res) {
      // The client wants cached data only (RFC 7234 5.2.1.7): Kong answers 504.
      if (cacheControl_ && cc.onlyIfCached) {
        ctx.exit(504, {}, {});
        return;
      }
      return signal(ctx, debug, key, "Miss");
    }
    if (res->version != kCacheVersion) {
      store_->erase(key);
      return signal(ctx, debug, key, "Bypass");
    }
    const std::int64_t age = store_->now() - res->timestamp;
    if (cacheControl_) {
      if (cc.maxAge.value && static_cast<double>(age) > *cc.maxAge.value)
        return signal(ctx, debug, key, "Refresh");
      if (cc.maxStale.value && static_cast<double>(age - res->ttl) > *cc.maxStale.value)
        return signal(ctx, debug, key, "Refresh");
      if (cc.minFresh.value && static_cast<double>(res->ttl - age) < *cc.minFresh.value)
        return signal(ctx, debug, key, "Refresh");
    } else if (age > cacheTtl_) {
      // The entry may outlive cache_ttl in storage (storage_ttl); never serve it stale.
      return signal(ctx, debug, key, "Refresh");
    }
    serveHit(ctx, debug, key, *res, age);
  }

  void headerFilter(Context& ctx) const override {
    std::string& state = ctx.scratch();
    if (state.empty() || state[0] != 'M') return;
    thread_local std::vector<std::pair<std::string_view, std::string_view>> headers;
    responseSnapshot(ctx, headers);
    std::optional<std::string_view> contentType, expires;
    std::string cacheControl;
    for (const auto& [n, v] : headers) {
      if (!contentType && iequals(n, "Content-Type")) contentType = v;
      if (iequals(n, "Expires")) expires = v;  // the last one, as Kong takes it
      if (iequals(n, "Cache-Control")) {
        if (!cacheControl.empty()) cacheControl += ", ";
        cacheControl.append(v);
      }
    }
    pc::CacheControl cc;
    if (cacheControl_) cc = pc::parseCacheControl(cacheControl);
    std::int64_t ttl = cacheTtl_;
    bool cacheable = statusCacheable(ctx.status) && contentType && !contentType->empty() &&
                     contentTypeCacheable(*contentType);
    if (cacheable && cacheControl_) {
      ttl = pc::resourceTtl(cc, expires, store_->now());
      cacheable = !(cc.isPrivate || cc.noStore || cc.noCache) && ttl > 0;
    }
    if (!cacheable) {
      setHeader(ctx, ctx.hasHeader("Kong-Debug"), headerStatus_, "X-Cache-Status", "Bypass");
      state.clear();
      return;
    }
    // Keep what body_filter stores: "S" key '\n' ttl '\n' then name '\0' value '\n' per header
    // (header fields hold neither byte). The scratch string keeps its capacity per request.
    std::string key = state.substr(1);
    state.assign("S");
    state += key;
    state += '\n';
    state += std::to_string(ttl);
    state += '\n';
    for (const auto& [n, v] : headers) {
      state.append(n);
      state += '\0';
      state.append(v);
      state += '\n';
    }
  }

  void bodyFilter(Context& ctx) const override {
    const std::string& state = ctx.scratch();
    if (state.empty() || state[0] != 'S' || !ctx.responseBodyAvailable) return;
    std::string_view rest(state);
    rest.remove_prefix(1);
    auto nl = rest.find('\n');
    std::string_view key = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    nl = rest.find('\n');
    std::int64_t ttl = 0;
    std::from_chars(rest.data(), rest.data() + nl, ttl);
    rest.remove_prefix(nl + 1);

    auto res = std::make_shared<pc::CachedResponse>();
    while (!rest.empty()) {
      auto end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      auto zero = line.find('\0');
      res->headers.emplace_back(line.substr(0, zero), line.substr(zero + 1));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
    res->status = ctx.status;
    // The body as it leaves: a plugin before this one (response-transformer) may have
    // replaced it.
    res->body.assign(ctx.responseBodySet ? std::string_view(ctx.newResponseBody)
                                         : ctx.responseBody());
    res->timestamp = store_->now();
    res->ttl = ttl;
    res->version = kCacheVersion;
    store_->set(key, std::move(res), storageTtl_ ? *storageTtl_ : ttl);
  }

  // ------------------------------------------------------------------------- config
  std::vector<int> responseCodes_;
  std::vector<std::string> requestMethods_;
  std::vector<mime::MediaType> contentTypes_;
  std::int64_t cacheTtl_ = 300;
  std::optional<std::int64_t> storageTtl_;
  bool cacheControl_ = false, ignoreUriCase_ = false;
  std::vector<std::string> varyQueryParams_, varyHeaders_;
  bool headerAge_ = true, headerStatus_ = true, headerKey_ = true;
  std::shared_ptr<pc::MemoryCache> store_;

 private:
  bool cacheableRequest(const Context& ctx, const pc::CacheControl& cc) const {
    std::string_view method =
        ctx.upstreamMethodSet ? std::string_view(ctx.upstreamMethod) : ctx.method;
    bool allowed = false;
    for (const auto& m : requestMethods_) allowed = allowed || m == method;
    if (!allowed) return false;
    // Kong also names ngx.var.authorization here, a variable nginx does not define: the
    // Authorization header does not make a request uncacheable.
    return !(cacheControl_ && (cc.noStore || cc.noCache));
  }

  bool statusCacheable(int status) const {
    for (int c : responseCodes_) {
      if (c == status) return true;
    }
    return false;
  }

  // Kong 3.3+: type and subtype match (or "*"), every configured parameter has the same value
  // and the response has no other parameters.
  bool contentTypeCacheable(std::string_view contentType) const {
    auto got = mime::parse(contentType);
    std::size_t gotParams = 0;
    if (got) {
      for (std::size_t i = 0; i < got->params.size(); ++i) {
        bool repeated = false;
        for (std::size_t j = i + 1; j < got->params.size(); ++j)
          repeated = repeated || got->params[j].first == got->params[i].first;
        if (!repeated) ++gotParams;
      }
    }
    for (const auto& exp : contentTypes_) {
      if (!(exp.type == "*" || (got && got->type == exp.type))) continue;
      if (!(exp.subtype == "*" || (got && got->subtype == exp.subtype))) continue;
      bool paramsMatch = true;
      std::size_t expParams = 0;
      for (std::size_t i = 0; i < exp.params.size(); ++i) {
        const std::string* want = exp.param(exp.params[i].first);
        if (want != &exp.params[i].second) continue;  // an earlier duplicate; the last counts
        ++expParams;
        const std::string* have = got ? got->param(exp.params[i].first) : nullptr;
        paramsMatch = paramsMatch && have && *have == *want;
      }
      if (paramsMatch && gotParams == expParams) return true;
    }
    return false;
  }

  void signal(Context& ctx, bool debug, const std::string& key, std::string_view status) const {
    ctx.scratch().assign("M").append(key);
    setHeader(ctx, debug, headerStatus_, "X-Cache-Status", status);
  }

  void serveHit(Context& ctx, bool debug, const std::string& key, const pc::CachedResponse& res,
                std::int64_t age) const {
    std::string_view contentType;
    for (std::size_t i = 0; i < res.headers.size(); ++i) {
      const auto& [name, value] = res.headers[i];
      // The gateway names itself in Server on every answer it makes; replaying the stored
      // one too would send two.
      if (!overwritable(name) || iequals(name, "Age") || iequals(name, "X-Cache-Status") ||
          iequals(name, "X-Cache-Key") || iequals(name, "Server"))
        continue;
      if (iequals(name, "Content-Type")) {
        if (contentType.empty()) contentType = value;
        continue;
      }
      bool seen = false;
      for (std::size_t j = 0; j < i && !seen; ++j) seen = iequals(res.headers[j].first, name);
      if (seen)
        ctx.addResponseHeader(name, value);
      else
        ctx.setResponseHeader(name, value);
    }
    setHeader(ctx, debug, headerAge_, "Age", std::to_string(age));
    setHeader(ctx, debug, headerStatus_, "X-Cache-Status", "Hit");
    setHeader(ctx, debug, headerKey_, "X-Cache-Key", key);
    ctx.exit(res.status, res.body, contentType);
  }

  static void setHeader(Context& ctx, bool debug, bool enabled, std::string_view name,
                        std::string_view value) {
    if (debug || enabled) ctx.setResponseHeader(name, value);
  }
};

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) out.emplace_back(e.as_string());
  return out;
}

class ProxyCacheFactory final : public Factory {
 public:
  ProxyCacheFactory() {
    schema_.name = "proxy-cache";
    schema_.fields = {
        sc::arrayOf("response_code", sc::integer("").between(100, 900))
            .minLen(1)
            .req()
            .def(json::array{200, 301, 404})
            .describe("Upstream response status code considered cacheable."),
        sc::arrayOf("request_method", sc::str("").one({"HEAD", "GET", "POST", "PATCH", "PUT"}))
            .req()
            .def(json::array{"GET", "HEAD"})
            .describe("Downstream request methods considered cacheable."),
        sc::arrayOf("content_type", sc::str(""))
            .req()
            .def(json::array{"text/plain", "application/json"})
            .describe("Upstream response content types considered cacheable (exact match)."),
        sc::integer("cache_ttl")
            .def(300)
            .greater(0)
            .describe("TTL, in seconds, of cache entities."),
        sc::str("strategy").one({"memory"}).req(),
        sc::boolean("cache_control").def(false).req(),
        sc::boolean("ignore_uri_case").def(false),
        sc::integer("storage_ttl"),
        sc::record("memory", {sc::str("dictionary_name").req().def("kong_db_cache")}),
        sc::arrayOf("vary_query_params", sc::str("")),
        sc::arrayOf("vary_headers", sc::str("")),
        sc::record("response_headers",
                   {sc::boolean("age").def(true), sc::boolean("X-Cache-Status").def(true),
                    sc::boolean("X-Cache-Key").def(true)}),
    };
  }

  std::string_view name() const override { return "proxy-cache"; }
  int priority() const override { return 100; }
  const sc::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    auto inst = std::make_shared<ProxyCache>();
    for (const auto& c : config.at("response_code").as_array())
      inst->responseCodes_.push_back(static_cast<int>(c.to_number<std::int64_t>()));
    inst->requestMethods_ = strings(config.at("request_method"));
    for (const auto& ct : strings(config.at("content_type"))) {
      // Kong skips an entry it cannot parse.
      if (auto m = mime::parse(ct)) inst->contentTypes_.push_back(std::move(*m));
    }
    if (const auto& t = config.at("cache_ttl"); !t.is_null())
      inst->cacheTtl_ = t.to_number<std::int64_t>();
    if (const auto& t = config.at("storage_ttl"); !t.is_null())
      inst->storageTtl_ = t.to_number<std::int64_t>();
    inst->cacheControl_ = config.at("cache_control").as_bool();
    if (const auto& v = config.at("ignore_uri_case"); v.is_bool())
      inst->ignoreUriCase_ = v.as_bool();
    inst->varyQueryParams_ = strings(config.at("vary_query_params"));
    inst->varyHeaders_ = strings(config.at("vary_headers"));
    if (const auto& rh = config.at("response_headers"); rh.is_object()) {
      auto flag = [&](const char* k) {
        auto it = rh.as_object().find(k);
        return it == rh.as_object().end() || !it->value().is_bool() || it->value().as_bool();
      };
      inst->headerAge_ = flag("age");
      inst->headerStatus_ = flag("X-Cache-Status");
      inst->headerKey_ = flag("X-Cache-Key");
    }
    std::string dictionary = "kong_db_cache";
    if (const auto& m = config.at("memory"); m.is_object()) {
      if (auto it = m.as_object().find("dictionary_name");
          it != m.as_object().end() && it->value().is_string())
        dictionary = it->value().as_string();
    }
    inst->store_ = pc::stores(env.persistent()).obtain(dictionary);
    return std::shared_ptr<const Instance>(std::move(inst));
  }

 private:
  sc::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeProxyCachePlugin() {
  return std::make_unique<ProxyCacheFactory>();
}

}  // namespace archway::plugins
