#pragma once
// proxy-cache (Kong PRIORITY 100), memory strategy: caches upstream responses node-wide and
// serves them without calling the upstream, as kong/plugins/proxy-cache/handler.lua does.
// - access: a cacheable request (method in request_method; with cache_control, no
//   "no-store"/"no-cache" in its Cache-Control) gets its key (cache_key.h); a fresh entry is
//   served with ctx.exit (X-Cache-Status: Hit, Age, X-Cache-Key), otherwise the request goes
//   upstream marked Miss (absent), Refresh (stale) or Bypass (not cacheable).
// - header_filter: the response is cacheable when its status is in response_code and its
//   Content-Type equals one of content_type (type, subtype and the same parameters, so
//   "application/json; charset=utf-8" does not match "application/json"); with cache_control
//   also not private/no-store/no-cache and with a positive TTL. Otherwise Bypass.
// - body_filter: stores status, headers and the whole body for storage_ttl, else the
//   resource TTL (cache_control) or cache_ttl. A body the proxy did not buffer (bigger than
//   its limit) is not stored.
// The diagnostic headers follow response_headers, or are all sent when the request has a
// Kong-Debug header. Caches live in memory_cache.h, one per memory.dictionary_name (any name
// is accepted; Kong requires the shared dict to exist in its nginx template).
#include <memory>

#include "plugins/plugin.h"
#include "plugins/proxy_cache/memory_cache.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeProxyCachePlugin();

}  // namespace archway::plugins
