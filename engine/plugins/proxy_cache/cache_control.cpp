#include "plugins/proxy_cache/cache_control.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace archway::plugins::proxy_cache {
namespace {

bool isSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// Lua's tonumber on a directive value: surrounding whitespace allowed, decimal or 0x hex.
std::optional<double> luaNumber(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  std::string text(s);
  std::size_t d = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  char* end = nullptr;
  double v = 0;
  if (text.size() > d + 2 && text[d] == '0' && (text[d + 1] == 'x' || text[d + 1] == 'X')) {
    v = static_cast<double>(std::strtoll(text.c_str(), &end, 16));
  } else {
    if (d >= text.size() || !((text[d] >= '0' && text[d] <= '9') || text[d] == '.'))
      return std::nullopt;
    v = std::strtod(text.c_str(), &end);
  }
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

int monthIndex(std::string_view m) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (kMonths[i] == m) return i;
  }
  return -1;
}

// Days from 1970-01-01 to y-m-d (civil calendar).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

CacheControl parseCacheControl(std::string_view header) {
  CacheControl cc;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && isSpace(item.front())) item.remove_prefix(1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == 0) continue;  // "=x": [^=]+ needs a name
    std::string name(item.substr(0, eq));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos && eq + 1 < item.size()) value = item.substr(eq + 1);
    auto number = [&](CacheControl::Number& n) {
      n.present = true;
      n.value = value ? luaNumber(*value) : std::nullopt;
    };
    if (name == "no-store")
      cc.noStore = true;
    else if (name == "no-cache")
      cc.noCache = true;
    else if (name == "private")
      cc.isPrivate = true;
    else if (name == "only-if-cached")
      cc.onlyIfCached = true;
    else if (name == "max-age")
      number(cc.maxAge);
    else if (name == "s-maxage")
      number(cc.sMaxAge);
    else if (name == "max-stale")
      number(cc.maxStale);
    else if (name == "min-fresh")
      number(cc.minFresh);
  }
  return cc;
}

std::int64_t resourceTtl(const CacheControl& cc, std::optional<std::string_view> expires,
                         std::int64_t now) {
  const CacheControl::Number* n =
      cc.sMaxAge.present ? &cc.sMaxAge : (cc.maxAge.present ? &cc.maxAge : nullptr);
  if (n) {
    if (!n->value) return 0;
    return std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(*n->value)));
  }
  if (expires) {
    if (auto t = parseHttpTime(*expires)) return std::max<std::int64_t>(0, *t - now);
  }
  return 0;
}

std::optional<std::int64_t> parseHttpTime(std::string_view s) {
  int day = 0, month = -1, year = 0, hh = 0, mm = 0, ss = 0;
  auto comma = s.find(',');
  std::size_t p = 0;
  if (comma != std::string_view::npos) {
    p = comma + 1;
    if (p < s.size() && s[p] == ' ') ++p;
    if (p + 2 < s.size() && s[p + 2] == '-') {
      // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
      if (!digits(s, p, 2, day)) return std::nullopt;
      month = monthIndex(s.substr(p + 3, 3));
      if (s.substr(p + 6, 1) != "-" || !digits(s, p + 7, 2, year)) return std::nullopt;
      year += year < 70 ? 2000 : 1900;
      p += 10;
    } else {
      // RFC 1123: "Sun, 06 Nov 1994 08:49:37 GMT"
      if (!digits(s, p, 2, day)) return std::nullopt;
      month = monthIndex(s.substr(p + 3, 3));
      if (!digits(s, p + 7, 4, year)) return std::nullopt;
      p += 12;
    }
  } else {
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (s.size() < 24) return std::nullopt;
    month = monthIndex(s.substr(4, 3));
    std::string_view d = s.substr(8, 2);
    day = d[0] == ' ' ? d[1] - '0' : (d[0] - '0') * 10 + (d[1] - '0');
    if (!digits(s, 20, 4, year)) return std::nullopt;
    p = 11;
  }
  if (month < 0 || !digits(s, p, 2, hh) || s.substr(p + 2, 1) != ":" || !digits(s, p + 3, 2, mm) ||
      s.substr(p + 5, 1) != ":" || !digits(s, p + 6, 2, ss))
    return std::nullopt;
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  return daysFromCivil(year, static_cast<unsigned>(month + 1), static_cast<unsigned>(day)) * 86400 +
         hh * 3600 + mm * 60 + ss;
}

}  // namespace archway::plugins::proxy_cache
