#include "plugins/proxy_cache/cache_key.h"

#include "plugins/args.h"

#include <openssl/evp.h>

#include <algorithm>

namespace archway::plugins::proxy_cache {
namespace {

char lowerChar(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerChar(a[i]) != lowerChar(b[i])) return false;
  }
  return true;
}

std::string formDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexDigit(s[i + 1]) >= 0 &&
               hexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(hexDigit(s[i + 1]) * 16 + hexDigit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// One decoded argument (ngx.req.get_uri_args): a flag is Lua `true`.
struct Arg {
  std::string name;
  std::vector<std::string> values;
  bool flag = false;
};

std::vector<Arg> decodeArgs(std::string_view q) {
  std::vector<Arg> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = formDecode(pair.substr(0, eq));
      if (!key.empty()) {
        auto it = std::find_if(out.begin(), out.end(), [&](const Arg& a) { return a.name == key; });
        if (it == out.end()) {
          out.push_back(Arg{std::move(key), {}, false});
          it = out.end() - 1;
        }
        if (eq == std::string_view::npos) {
          if (it->values.empty()) it->flag = true;
        } else {
          it->flag = false;
          it->values.push_back(formDecode(pair.substr(eq + 1)));
        }
      }
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

// generate_key_from: one "field=value" (or bare field, or sorted values joined by ',') per
// present field, joined with ':'.
void appendField(std::string& out, std::string_view field, bool flag,
                 std::vector<std::string> values) {
  if (!flag && values.empty()) return;
  if (!out.empty()) out += ':';
  out.append(field);
  if (flag) return;
  out += '=';
  if (values.size() > 1) std::sort(values.begin(), values.end());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += values[i];
  }
}

void headerValues(const Context& ctx, std::size_t editsEnd, std::string_view name,
                  std::vector<std::string>& out) {
  out.clear();
  for (auto v : ctx.headers(name)) out.emplace_back(v);
  for (std::size_t i = 0; i < editsEnd && i < ctx.requestEdits.size(); ++i) {
    const auto& e = ctx.requestEdits[i];
    if (!iequals(e.name, name)) continue;
    switch (e.op) {
      case HeaderEdit::Op::set:
        out.assign(1, e.value);
        break;
      case HeaderEdit::Op::add:
        out.push_back(e.value);
        break;
      case HeaderEdit::Op::remove:
        out.clear();
        break;
    }
  }
}

}  // namespace

std::string paramsKey(std::string_view rawQuery, const std::vector<std::string>& varyQueryParams) {
  std::vector<Arg> args = decodeArgs(rawQuery);
  std::string out;
  if (varyQueryParams.empty()) {
    std::sort(args.begin(), args.end(), [](const Arg& a, const Arg& b) { return a.name < b.name; });
    for (auto& a : args) appendField(out, a.name, a.flag, std::move(a.values));
    return out;
  }
  for (const auto& field : varyQueryParams) {
    auto it = std::find_if(args.begin(), args.end(), [&](const Arg& a) { return a.name == field; });
    if (it != args.end()) appendField(out, field, it->flag, it->values);
  }
  return out;
}

std::string headersKey(const Context& ctx, std::size_t editsEnd,
                       const std::vector<std::string>& varyHeaders) {
  std::string out;
  std::vector<std::string> values;
  for (const auto& field : varyHeaders) {
    headerValues(ctx, editsEnd, field, values);
    if (values.empty() && field.find('_') != std::string::npos) {
      // ngx.req.get_headers() finds "x_foo" as X-Foo.
      std::string alt = field;
      std::replace(alt.begin(), alt.end(), '_', '-');
      headerValues(ctx, editsEnd, alt, values);
    }
    appendField(out, field, false, values);
  }
  return out;
}

std::string prefixUuid(const core::Consumer* consumer, const core::Route* route) {
  if (consumer && route) return consumer->id + ":" + route->id;
  if (route) return route->id;
  return "default";
}

std::string requestUri(std::string_view method, std::string_view target, bool hasQuery,
                       std::string_view httpVersion, bool ignoreCase) {
  std::string uri;
  uri.reserve(method.size() + target.size() + httpVersion.size() + 2);
  uri.append(method);
  uri += ' ';
  uri.append(target);
  if (!hasQuery) {
    uri += ' ';
    uri.append(httpVersion);
  }
  if (ignoreCase) {
    for (char& c : uri) c = lowerChar(c);
  }
  return uri;
}

std::string sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string buildCacheKey(const Context& ctx, std::size_t editsEnd, bool ignoreUriCase,
                          const std::vector<std::string>& varyQueryParams,
                          const std::vector<std::string>& varyHeaders) {
  // Kong reads the method and query args after earlier plugins changed them
  // (request-transformer), but the request line as the client sent it.
  std::string_view method =
      ctx.upstreamMethodSet ? std::string_view(ctx.upstreamMethod) : ctx.method;
  std::string_view query = ctx.upstreamQuerySet ? std::string_view(ctx.upstreamQuery) : ctx.query;
  std::string material = prefixUuid(ctx.consumer, ctx.route);
  material += '|';
  material.append(method);
  material += '|';
  material += requestUri(ctx.method, ctx.rawPath, !ctx.query.empty(), "HTTP/1.1", ignoreUriCase);
  material += '|';
  material += paramsKey(query, varyQueryParams);
  material += '|';
  material += headersKey(ctx, editsEnd, varyHeaders);
  return sha256Hex(material);
}

}  // namespace archway::plugins::proxy_cache
