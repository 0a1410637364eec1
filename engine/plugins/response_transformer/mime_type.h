#pragma once
// Media types as Kong parses and compares them (kong/tools/mime_type.lua): RFC 2045
// "type/subtype *(; attribute=value)" with token or quoted-string values, type, subtype and
// parameter names lower-cased, nothing allowed after the last parameter. Shared by
// response-transformer (is this a JSON body?) and proxy-cache (is this content type
// cacheable?).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace archway::plugins::mime {

struct MediaType {
  std::string type;                                         // "*" for a bare "*"
  std::string subtype;                                      // "*" for a bare "*"
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, in order

  // The value of parameter `name` (lower-case), or null.
  const std::string* param(std::string_view name) const;
};

std::optional<MediaType> parse(std::string_view text);

// Kong's includes(this, other): "*/*" includes everything; equal types with an equal or "*"
// subtype; "json" also includes a "+json" suffix ("application/problem+json").
bool includes(const MediaType& self, const MediaType& other);

// response-transformer's is_json_body: any comma-separated entry (whitespace stripped) is
// included by application/json.
bool isJson(std::string_view contentType);

}  // namespace archway::plugins::mime
