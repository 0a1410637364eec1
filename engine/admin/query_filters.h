#pragma once
// Query parameters shared by the Admin API's list endpoints of recent things (traces, access
// and error logs): `limit` and a status class.
#include <charconv>
#include <cstddef>
#include <string_view>

namespace archway::admin {

// ?limit=N, N a whole integer in 1..1000.
inline bool parseLimit(std::string_view v, std::size_t& out) {
  long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 1000) return false;
  out = static_cast<std::size_t>(n);
  return true;
}

// ?status=5xx (any case of the x): the class 1..5, else 0.
inline int statusClass(std::string_view v) {
  if (v.size() != 3 || v[0] < '1' || v[0] > '5') return 0;
  return (v[1] == 'x' || v[1] == 'X') && (v[2] == 'x' || v[2] == 'X') ? v[0] - '0' : 0;
}

}  // namespace archway::admin
