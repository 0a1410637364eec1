#pragma once
// A target's "host:port" text split for connecting. Resolution of hostnames is the caller's job
// (the proxy's DNS cache, the active checker's resolver).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace archway::balancer {

struct TargetAddress {
  std::string host;  // hostname or IP literal, without IPv6 brackets
  std::uint16_t port = 8000;
  bool isIp = false;  // host is an IPv4/IPv6 literal: no DNS needed, no Host/SNI name

  // "host:port", IPv6 in brackets: the key Kong uses for a target.
  std::string text() const;
};

// Parses "host", "host:port", "[v6]", "[v6]:port", a bare IPv6; Kong's default port 8000.
// nullopt when the text is not an address.
std::optional<TargetAddress> parseTargetAddress(std::string_view text);

}  // namespace archway::balancer
