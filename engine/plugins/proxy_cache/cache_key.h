#pragma once
// Kong's proxy-cache key (kong/plugins/proxy-cache/cache_key.lua):
//   sha256_hex(prefix | method | uri | params_digest | headers_digest)
// - prefix: "<consumer_id>:<route_id>", "<route_id>" or "default";
// - uri: the request line with everything from the first '?' cut off (ngx.var.request), so a
//   request without a query keeps its " HTTP/1.1" tail; lower-cased with ignore_uri_case;
// - params_digest: "k=v:k2=v2" over vary_query_params, or over every argument sorted by name
//   when that list is empty; repeated arguments sort their values and join them with ',';
//   a flag argument is its bare name;
// - headers_digest: the same over vary_headers, empty when that list is empty.
#include <string>
#include <string_view>
#include <vector>

#include "plugins/plugin.h"

namespace archway::plugins::proxy_cache {

std::string paramsKey(std::string_view rawQuery, const std::vector<std::string>& varyQueryParams);
// `editsEnd`: the request edits of earlier plugins to see (Kong's get_headers sees them).
std::string headersKey(const Context& ctx, std::size_t editsEnd,
                       const std::vector<std::string>& varyHeaders);
std::string prefixUuid(const core::Consumer* consumer, const core::Route* route);
// ngx.var.request minus "?...": `httpVersion` is the request's ("HTTP/1.1").
std::string requestUri(std::string_view method, std::string_view target, bool hasQuery,
                       std::string_view httpVersion, bool ignoreCase);
std::string sha256Hex(std::string_view data);

// The whole key for a request as the plugin sees it.
std::string buildCacheKey(const Context& ctx, std::size_t editsEnd, bool ignoreUriCase,
                          const std::vector<std::string>& varyQueryParams,
                          const std::vector<std::string>& varyHeaders);

}  // namespace archway::plugins::proxy_cache
