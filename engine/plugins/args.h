#pragma once
// Query and form arguments as Kong's plugins see them (ngx.req.get_uri_args): %XX decoded,
// '+' a space, a malformed escape kept as it is. Shared by the plugins that read arguments.
#include <string>
#include <string_view>

namespace archway::plugins {

// The value of a hex digit, -1 when `c` is not one.
inline int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Feeds the decoded characters of `raw` to `sink` until it returns false.
template <class Sink>
void decodeArg(std::string_view raw, Sink&& sink) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < raw.size()) {
      int hi = hexDigit(raw[i + 1]), lo = hexDigit(raw[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
    }
    if (!sink(c)) return;
  }
}

// Whether `raw` decodes to exactly `want`, without building the decoded string.
inline bool decodedEquals(std::string_view raw, std::string_view want) {
  std::size_t n = 0;
  bool same = true;
  decodeArg(raw, [&](char c) {
    if (n >= want.size() || want[n] != c) {
      same = false;
      return false;
    }
    ++n;
    return true;
  });
  return same && n == want.size();
}

inline void decodeInto(std::string_view raw, std::string& out) {
  out.clear();
  decodeArg(raw, [&](char c) {
    out += c;
    return true;
  });
}

}  // namespace archway::plugins
