#pragma once
// Kong's field validators the log plugins share (kong/db/schema/typedefs.lua), with Kong's
// messages. Each returns an error message, or empty when the value is fine.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "plugins/schema.h"

namespace archway::plugins::log {

// typedefs.host: a name, an IPv4 or an IPv6 address, without a port ("invalid value: x",
// "must not have a port").
std::string checkHost(std::string_view host);

// file-log's `path` pattern ^[^%s*&%%\`][^*&%%\`]*[^%s*&%%\`]$ ("not a valid filename").
std::string checkFilePath(std::string_view path);

// typedefs.url as socket.url parses it ("missing host in url", "missing scheme in url").
std::string checkUrl(std::string_view url);

// An http(s) URL split for a client. Port defaults from the scheme; path defaults to "/";
// `target` is the path with the query.
struct HttpUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string userinfo;
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string target;
  bool ipv6 = false;
};
std::optional<HttpUrl> parseHttpUrl(std::string_view url);

// typedefs.lua_code (custom_fields_by_lua): accepted so Kong configs load; Archway cannot run
// Lua, so compile() warns and ignores it.
schema::Field luaCodeField();

}  // namespace archway::plugins::log
