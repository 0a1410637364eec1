#include "plugins/ip_restriction/ip_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace archway::plugins::ip {
namespace {

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// "0".."max" in plain decimal (Kong's prefix tables have no "08" or "+8").
std::optional<int> parsePrefix(std::string_view s, int max) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// Splits "addr/prefix"; prefix -1 when there is none, nothing when malformed.
std::optional<std::pair<Address, int>> parseIpOrCidr(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parseAddress(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return std::make_pair(*addr, -1);
  // A prefix on a mapped address ("::ffff:1.2.3.4/120") counts in IPv6 bits.
  const bool written6 = text.substr(0, slash).find(':') != std::string_view::npos;
  auto prefix = parsePrefix(text.substr(slash + 1), written6 ? 128 : 32);
  if (!prefix) return std::nullopt;
  int p = *prefix;
  if (written6 && !addr->v6) {
    if (p < 96) {
      // Wider than the mapped block: keep it as IPv6 (::ffff:0:0/p covers non-mapped space).
      addr->v6 = true;
      addr->hi = 0;
      addr->lo = (std::uint64_t{0xffff} << 32) | addr->lo;
    } else {
      p -= 96;
    }
  }
  return std::make_pair(*addr, p);
}

}  // namespace

std::optional<Address> parseAddress(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty()) return std::nullopt;
  const bool six = text.find(':') != std::string_view::npos;
  if (six) {
    if (auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  }
  if (text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Address a;
  if (!six) {
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    a.lo = ntohl(v4.s_addr);
    return a;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  const auto* b = v6.s6_addr;
  a.hi = load64(b);
  a.lo = load64(b + 8);
  if (a.hi == 0 && (a.lo >> 32) == 0xffff) {
    a.lo &= 0xffffffffu;  // IPv4-mapped
    return a;
  }
  a.v6 = true;
  return a;
}

bool isValidIpOrCidr(std::string_view text) {
  return parseIpOrCidr(text).has_value();
}

bool IpSet::add(std::string_view text) {
  auto parsed = parseIpOrCidr(text);
  if (!parsed) return false;
  auto [addr, prefix] = *parsed;
  Range r{addr, addr};
  if (!addr.v6) {
    if (prefix >= 0) {
      const std::uint64_t hostBits = std::uint64_t{0xffffffff} >> prefix;
      r.first.lo = addr.lo & ~hostBits & 0xffffffffu;
      r.last.lo = r.first.lo | hostBits;
    }
    v4_.push_back(r);
  } else {
    if (prefix >= 0) {
      auto maskOf = [](int bits) -> std::uint64_t {  // `bits` leading ones of 64
        return bits <= 0 ? 0 : bits >= 64 ? ~std::uint64_t{0} : ~(~std::uint64_t{0} >> bits);
      };
      const std::uint64_t mhi = maskOf(prefix), mlo = maskOf(prefix - 64);
      r.first.hi = addr.hi & mhi;
      r.first.lo = addr.lo & mlo;
      r.last.hi = r.first.hi | ~mhi;
      r.last.lo = r.first.lo | ~mlo;
    }
    v6_.push_back(r);
  }
  return true;
}

void IpSet::merge(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> out;
  for (const auto& r : ranges) {
    if (!out.empty() && r.first <= out.back().last) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  ranges = std::move(out);
}

void IpSet::finish() {
  merge(v4_);
  merge(v6_);
}

bool IpSet::contains(const Address& a) const {
  const auto& ranges = a.v6 ? v6_ : v4_;
  // The last range starting at or before `a`; ranges are disjoint after finish().
  auto it = std::upper_bound(ranges.begin(), ranges.end(), a,
                             [](const Address& x, const Range& r) { return x < r.first; });
  if (it == ranges.begin()) return false;
  --it;
  return a <= it->last;
}

}  // namespace archway::plugins::ip
