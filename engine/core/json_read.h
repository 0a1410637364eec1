#pragma once
// Lenient reads of members of a JSON object another program wrote (a remote node's stats and
// traces): a missing or mistyped member reads as 0, "" or {}, never as an error. Header-only;
// users link Boost::json.
#include <boost/json/object.hpp>
#include <string_view>

namespace archway::core {

inline double jsonNumber(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return 0;
}

inline std::string_view jsonText(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

inline const boost::json::object& jsonObject(const boost::json::object& o, std::string_view key) {
  static const boost::json::object kEmpty;
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : kEmpty;
}

}  // namespace archway::core
