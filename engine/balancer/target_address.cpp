#include "balancer/target_address.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace archway::balancer {

namespace {

bool parsePort(std::string_view s, std::uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

bool isIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::string TargetAddress::text() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = "[" + host + "]";
  } else {
    out = host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<TargetAddress> parseTargetAddress(std::string_view text) {
  TargetAddress a;
  if (text.empty()) return std::nullopt;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    a.host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !parsePort(rest.substr(1), a.port)) return std::nullopt;
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    a.host = std::string(text);  // bare IPv6 literal
  } else {
    auto colon = text.find(':');
    a.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos && !parsePort(text.substr(colon + 1), a.port)) {
      return std::nullopt;
    }
  }
  if (a.host.empty()) return std::nullopt;
  a.isIp = isIpLiteral(a.host);
  return a;
}

}  // namespace archway::balancer
