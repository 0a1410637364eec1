#pragma once
// A set of IPv4/IPv6 addresses and CIDR blocks, compiled once into sorted, merged address
// ranges: membership is a binary search and allocates nothing. IPv4-mapped IPv6 clients
// ("::ffff:10.0.0.1", what a dual-stack socket reports) match IPv4 entries.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace archway::plugins::ip {

// An address in either family; IPv4 in the low 32 bits of `lo` with v6 = false.
struct Address {
  bool v6 = false;
  std::uint64_t hi = 0, lo = 0;  // IPv6 as a 128-bit big-endian number
  auto operator<=>(const Address&) const = default;
};

// Parses an IPv4 or IPv6 address (an IPv6 zone "%eth0" is ignored); IPv4-mapped IPv6 turns
// into IPv4. Nothing on failure.
std::optional<Address> parseAddress(std::string_view text);

// Kong's typedefs.ip_or_cidr check: an address, or an address with "/prefix" (0-32 for IPv4,
// 0-128 for IPv6, plain decimal).
bool isValidIpOrCidr(std::string_view text);

class IpSet {
 public:
  // Adds an address or CIDR block; false when `text` is neither. Host bits of a CIDR are
  // ignored ("10.1.2.3/8" is 10.0.0.0/8), as resty.ipmatcher does.
  bool add(std::string_view text);
  // Sorts and merges the ranges; call once after the last add().
  void finish();
  bool contains(const Address& a) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  struct Range {
    Address first, last;
  };
  static void merge(std::vector<Range>& ranges);
  std::vector<Range> v4_, v6_;
};

}  // namespace archway::plugins::ip
