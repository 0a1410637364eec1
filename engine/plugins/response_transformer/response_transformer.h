#pragma once
// response-transformer (Kong PRIORITY 800): edits the response the client gets, in Kong's
// order remove, rename, replace, add, append (kong/plugins/response-transformer):
// - headers in header_filter; presence checks see the response headers as they were when the
//   plugin started (Kong reads kong.response.get_headers() once), so "remove X" followed by
//   "add X:v" does not add X back;
// - JSON fields in body_filter, only for bodies whose Content-Type is application/json (or a
//   "+json" type); `json_types` makes replace/add/append values numbers or booleans. The
//   proxy fixes Content-Length for the new body.
#include <memory>
#include <string>
#include <string_view>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeResponseTransformerPlugin();

namespace response_transformer {

// Kong's json_value(): the configured text as lua-cjson would escape it inside a JSON string,
// with \" and \/ turned back (so "a\b" becomes "a\\b"). Exposed for tests.
std::string jsonEscapedValue(std::string_view value);

}  // namespace response_transformer
}  // namespace archway::plugins
