#pragma once
// request-transformer (Kong PRIORITY 801): rewrites the request before it goes upstream, in
// Kong's order (kong/plugins/request-transformer/access.lua): replace.uri, http_method,
// headers, body, querystring; inside each part remove, rename, replace, add, append.
// - Values are "name:value" strings; a value may hold templates $(headers.x),
//   $(headers["x-y"]), $(query_params.y), $(uri_captures.z), $(uri_captures[1]), each with an
//   optional fallback `or "literal"`. Other Lua expressions (Kong renders any sandboxed Lua)
//   are refused when the config is checked, never silently left in the value.
// - Body edits for application/json, application/x-www-form-urlencoded and
//   multipart/form-data bodies (multipart: re-encoded with the request's own boundary;
//   untouched parts, files included, are kept byte for byte; a malformed body is passed on).
// - A query string that was edited is re-encoded with its arguments sorted, as Kong's
//   kong.service.request.set_query does.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeRequestTransformerPlugin();

namespace request_transformer {

// One argument of a query string or form body, decoded as ngx.decode_args does: a name
// without '=' is a flag (Lua `true`), repeated names collect their values in order.
struct Arg {
  std::string name;
  std::vector<std::string> values;
  bool flag = false;  // "name" alone; values is empty then
};
using Args = std::vector<Arg>;

Args decodeArgs(std::string_view s);
// ngx.encode_args in the given order (form bodies).
std::string encodeArgs(const Args& args);
// kong.service.request.set_query: each argument encoded on its own, the pieces sorted.
std::string encodeArgsSorted(const Args& args);

}  // namespace request_transformer
}  // namespace archway::plugins
