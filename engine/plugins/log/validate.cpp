#include "plugins/log/validate.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

namespace archway::plugins::log {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlnum(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

// What kong.tools.ip.normalize_ip concludes: a bad address, a port, or fine.
enum class HostCheck { ok, invalid, hasPort };

HostCheck checkIpv4(std::string_view s) {
  auto colon = s.find(':');
  std::string_view addr = s.substr(0, colon);
  int parts = 0;
  std::size_t start = 0;
  for (;;) {
    auto dot = addr.find('.', start);
    std::string_view part = addr.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || part.size() > 3 || !allDigits(part)) return HostCheck::invalid;
    int v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    if (v > 255) return HostCheck::invalid;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts != 4) return HostCheck::invalid;
  if (colon != std::string_view::npos) {
    // ipv4:port; "invalid port number" also ends as "must not have a port".
    return allDigits(s.substr(colon + 1)) ? HostCheck::hasPort : HostCheck::invalid;
  }
  return HostCheck::ok;
}

HostCheck checkIpv6(std::string_view s) {
  std::string addr;
  bool port = false;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return HostCheck::invalid;
    addr = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !allDigits(rest.substr(1))) return HostCheck::invalid;
      port = true;
    }
  } else {
    addr = std::string(s);
  }
  in6_addr out{};
  if (inet_pton(AF_INET6, addr.c_str(), &out) != 1) return HostCheck::invalid;
  return port ? HostCheck::hasPort : HostCheck::ok;
}

HostCheck checkName(std::string_view s) {
  std::string_view name = s;
  bool port = false;
  if (auto colon = s.rfind(':');
      colon != std::string_view::npos && allDigits(s.substr(colon + 1))) {
    name = s.substr(0, colon);
    port = true;
  }
  if (name.empty()) return HostCheck::invalid;
  for (char c : name) {
    if (!isAlnum(c) && c != '-' && c != '.' && c != '_') return HostCheck::invalid;
  }
  // Segments must not end with '-', and only the last may be empty (a trailing dot).
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  for (;;) {
    auto dot = name.find('.', start);
    segments.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!segments[i].empty() && segments[i].back() == '-') return HostCheck::invalid;
    if (segments[i].empty() && i + 1 != segments.size()) return HostCheck::invalid;
  }
  return port ? HostCheck::hasPort : HostCheck::ok;
}

bool badPathChar(char c) {
  return c == '*' || c == '&' || c == '%' || c == '`';
}
// Lua's %s: space, \t, \n, \v, \f, \r.
bool isSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// LuaSocket's url.parse, the parts typedefs.url looks at.
struct UrlParts {
  std::optional<std::string> scheme;
  std::optional<std::string> authority;
  std::string userinfo;
  std::optional<std::string> host;
  std::optional<std::string> port;
  std::string path;  // with ;params
  std::optional<std::string> query;
};

UrlParts splitUrl(std::string_view url) {
  UrlParts p;
  if (auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  // scheme: ^([%w][%w%+%-%.]*):
  if (!url.empty() && isAlnum(url[0])) {
    std::size_t i = 1;
    while (i < url.size() && (isAlnum(url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.'))
      ++i;
    if (i < url.size() && url[i] == ':') {
      p.scheme = std::string(url.substr(0, i));
      url = url.substr(i + 1);
    }
  }
  if (url.substr(0, 2) == "//") {
    url = url.substr(2);
    auto end = url.find_first_of("/?#");
    p.authority = std::string(url.substr(0, end));
    url = end == std::string_view::npos ? std::string_view{} : url.substr(end);
  }
  if (auto q = url.find('?'); q != std::string_view::npos) {
    p.query = std::string(url.substr(q + 1));
    url = url.substr(0, q);
  }
  p.path = std::string(url);
  if (p.authority) {
    std::string_view a = *p.authority;
    if (auto at = a.find('@'); at != std::string_view::npos) {
      p.userinfo = std::string(a.substr(0, at));
      a = a.substr(at + 1);
    }
    // port: ":([^:%]]*)$"
    if (auto colon = a.rfind(':'); colon != std::string_view::npos &&
                                   a.substr(colon + 1).find(']') == std::string_view::npos) {
      p.port = std::string(a.substr(colon + 1));
      a = a.substr(0, colon);
    }
    if (!a.empty()) {
      if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
      p.host = std::string(a);
    }
  }
  return p;
}

}  // namespace

std::string checkHost(std::string_view host) {
  // kong.tools.ip.hostname_type: more than one colon is IPv6; digits and dots once the colons
  // are removed is IPv4; anything else is a name.
  std::size_t colons = 0;
  bool digitsAndDots = true;
  for (char c : host) {
    if (c == ':')
      ++colons;
    else if (!isDigit(c) && c != '.')
      digitsAndDots = false;
  }
  HostCheck r;
  if (colons > 1)
    r = checkIpv6(host);
  else if (digitsAndDots && host.size() > colons)
    r = checkIpv4(host);
  else
    r = checkName(host);
  switch (r) {
    case HostCheck::ok:
      return {};
    case HostCheck::hasPort:
      return "must not have a port";
    case HostCheck::invalid:
      break;
  }
  return "invalid value: " + std::string(host);
}

std::string checkFilePath(std::string_view path) {
  bool ok = path.size() >= 2 && !isSpace(path.front()) && !badPathChar(path.front()) &&
            !isSpace(path.back()) && !badPathChar(path.back());
  for (std::size_t i = 1; ok && i + 1 < path.size(); ++i) ok = !badPathChar(path[i]);
  return ok ? std::string{} : std::string("not a valid filename");
}

std::string checkUrl(std::string_view url) {
  if (url.empty()) return "could not parse url. invalid url";
  UrlParts p = splitUrl(url);
  if (!p.host) return "missing host in url";
  if (!p.scheme) return "missing scheme in url";
  return {};
}

std::optional<HttpUrl> parseHttpUrl(std::string_view url) {
  UrlParts p = splitUrl(url);
  if (!p.host || !p.scheme) return std::nullopt;
  HttpUrl u;
  for (char c : *p.scheme) u.scheme += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  u.userinfo = p.userinfo;
  u.host = *p.host;
  u.ipv6 = u.host.find(':') != std::string::npos;
  u.port = u.scheme == "https" ? 443 : 80;
  if (p.port && !p.port->empty()) {
    unsigned v = 0;
    auto r = std::from_chars(p.port->data(), p.port->data() + p.port->size(), v);
    if (r.ec != std::errc() || r.ptr != p.port->data() + p.port->size() || v == 0 || v > 65535)
      return std::nullopt;
    u.port = static_cast<std::uint16_t>(v);
  }
  u.target = p.path.empty() ? "/" : p.path;
  if (p.query) u.target += "?" + *p.query;
  return u;
}

schema::Field luaCodeField() {
  using namespace schema;
  return mapOf("custom_fields_by_lua", str("value").minLen(1))
      .describe("Lua code as a key-value map (not supported by Archway: ignored).");
}

}  // namespace archway::plugins::log
