#pragma once
// Kong's paginated collection responses ({"data":[...],"offset":...,"next":...}).
#include <boost/json.hpp>
#include <boost/url/params_view.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"
#include "config/json_shapes.h"

namespace archway::admin {
namespace json = boost::json;

inline AdminResponse pagingRespond(int status, const boost::json::value& v) {
  return {status, boost::json::serialize(v)};
}

// Kong's invalid size error (code 9).
inline AdminResponse invalidSize(std::string_view why) {
  return pagingRespond(400, json::object{{"code", 9}, {"name", "invalid size"}, {"message", why}});
}

// Kong paginates with an opaque offset; ours is the index of the next entity, base64-free
// but documented as opaque.
template <class Entity>
AdminResponse page(const std::vector<Entity>& all, std::string_view collection,
                   const boost::urls::params_view& params) {
  std::size_t size = 100;
  std::size_t offset = 0;
  for (auto p : params) {
    if (p.key == "size") {
      try {
        std::size_t used = 0;
        long long v = std::stoll(std::string(p.value), &used);
        if (used != p.value.size()) return invalidSize("size must be a number");
        if (v < 1 || v > 1000) return invalidSize("size must be an integer between 1 and 1000");
        size = static_cast<std::size_t>(v);
      } catch (...) {
        return invalidSize("size must be a number");
      }
    } else if (p.key == "offset") {
      try {
        offset = static_cast<std::size_t>(std::stoull(std::string(p.value)));
      } catch (...) {
        return pagingRespond(
            400, json::object{{"code", 7},
                              {"name", "invalid offset"},
                              {"message", "'" + std::string(p.value) +
                                              "' is not a valid offset: bad base64 encoding"}});
      }
    }
  }
  json::array data;
  for (std::size_t i = offset; i < all.size() && data.size() < size; ++i)
    data.push_back(config::toJson(all[i]));
  json::object out;
  out["data"] = std::move(data);
  std::size_t next = offset + size;
  if (next < all.size()) {
    out["offset"] = std::to_string(next);
    out["next"] = "/" + std::string(collection) + "?offset=" + std::to_string(next) +
                  "&size=" + std::to_string(size);
  } else {
    out["next"] = nullptr;
  }
  return pagingRespond(200, out);
}


}  // namespace archway::admin
