#pragma once
// Cache-Control as proxy-cache reads it (kong.tools.http parse_directive_header and
// calculate_resource_ttl), used only when the plugin's `cache_control` is on.
#include <cstdint>
#include <optional>
#include <string_view>

namespace archway::plugins::proxy_cache {

struct CacheControl {
  // A directive with a numeric value (Lua tonumber); `present` without a number means Kong
  // would hold a string there.
  struct Number {
    bool present = false;
    std::optional<double> value;
  };
  bool noStore = false, noCache = false, isPrivate = false, onlyIfCached = false;
  Number maxAge, sMaxAge, maxStale, minFresh;
};

// Directives split on ',', each "^\s*([^=]+)(?:=(.+))?" with the name lower-cased (trailing
// spaces stay part of the name, as in Kong). A later duplicate wins.
CacheControl parseCacheControl(std::string_view header);

// The response's TTL: s-maxage, else max-age, else Expires minus now; never below 0. A
// non-numeric max-age counts as 0 (Kong fails on it; the response is not cached either way).
std::int64_t resourceTtl(const CacheControl& cc, std::optional<std::string_view> expires,
                         std::int64_t now);

// ngx.parse_http_time: RFC 1123, RFC 850 and asctime dates, in seconds since the epoch.
std::optional<std::int64_t> parseHttpTime(std::string_view text);

}  // namespace archway::plugins::proxy_cache
