#pragma once
// Reading a plugin's validated config (schema.h already filled in defaults and checked types):
// the small accessors the plugins' compile() functions share.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace archway::plugins {

// The string at `key`, or nullopt when absent, null or empty.
inline std::optional<std::string> optionalString(const boost::json::object& o,
                                                 std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string() || it->value().as_string().empty())
    return std::nullopt;
  return std::string(it->value().as_string());
}

// The boolean at `key`, or `dflt` when absent or not a boolean.
inline bool boolOf(const boost::json::object& o, std::string_view key, bool dflt = false) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() ? it->value().as_bool() : dflt;
}

// The strings of the array at `key` (other elements skipped); empty when absent.
inline std::vector<std::string> strings(const boost::json::object& o, std::string_view key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().as_array()) {
    if (v.is_string()) out.emplace_back(v.as_string());
  }
  return out;
}

}  // namespace archway::plugins
