#pragma once
// cors (Kong PRIORITY 2000): answers CORS preflight requests itself and adds the
// Access-Control-* headers to every other response, with the semantics of Kong's
// kong/plugins/cors/handler.lua:
// - `origins` empty or exactly ["*"]: Access-Control-Allow-Origin is "*".
// - one origin that looks like a plain origin ([A-Za-z0-9.:/-]+): sent as configured, whatever
//   the request's Origin.
// - otherwise each entry is either a plain origin compared with the request's normalised
//   origin, or a regex (any other character) matched anchored at the start and at the end
//   (Kong appends "$" and drops a leading "^"); a regex without ':' is matched against the
//   Origin's host only. A match echoes the normalised Origin; no match removes the header.
// - Vary: Origin whenever the answer depends on the Origin (not for "*").
// - credentials=true with "*": the request's Origin is echoed instead, with
//   Access-Control-Allow-Credentials: true.
// Regexes are RE2 (compiled once per config), not PCRE: patterns RE2 cannot express
// (backreferences, lookaround) are refused when the config is validated.
#include <memory>
#include <string>
#include <string_view>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeCorsPlugin();

namespace cors {

// Kong's normalize_origin (LuaSocket's url.parse): "scheme://host[:port]" with the default
// port (80 for http, 443 for https) dropped; an Origin without "//" authority is kept as is
// and is its own host. Exposed for tests.
struct NormalizedOrigin {
  std::string domain;
  std::string host;
};
NormalizedOrigin normalizeOrigin(std::string_view origin);

}  // namespace cors
}  // namespace archway::plugins
