#pragma once
// Kong's paginated collection responses ({"data":[...],"offset":...,"next":...}).
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <functional>
#include <optional>
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

// Kong's tag filters on every list (kong/api/endpoints.lua): `?tags=a,b` keeps entities with
// all of the tags, `?tags=a/b` those with any of them; at most 5 tags, `,` and `/` not mixed.
struct TagFilter {
  std::vector<std::string> tags;
  bool any = false;
  std::string raw;  // as given, carried into `next`

  bool matches(const std::vector<std::string>& have) const {
    auto has = [&](const std::string& t) {
      return std::find(have.begin(), have.end(), t) != have.end();
    };
    return any ? std::any_of(tags.begin(), tags.end(), has)
               : std::all_of(tags.begin(), tags.end(), has);
  }
  // An entity in its JSON shape (`tags` null or an array of strings).
  bool matches(const json::object& entity) const {
    std::vector<std::string> have;
    if (auto* t = entity.if_contains("tags"); t && t->is_array()) {
      for (const auto& x : t->as_array())
        if (x.is_string()) have.emplace_back(x.as_string());
    }
    return matches(have);
  }
  // "&tags=<escaped>" for a `next` link.
  std::string query() const {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "&tags=";
    for (unsigned char c : raw) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      }
    }
    return out;
  }
};

// Kong's invalid options error (code 11).
inline AdminResponse invalidTagOption(std::string_view why) {
  return pagingRespond(
      400, json::object{{"code", 11},
                        {"name", "invalid options"},
                        {"message", "invalid option (tags: " + std::string(why) + ")"},
                        {"options", json::object{{"tags", why}}}});
}

// Reads `tags` from the query: nullopt in `filter` when absent; an error response when invalid.
inline std::optional<AdminResponse> parseTagFilter(const boost::urls::params_view& params,
                                                   std::optional<TagFilter>& filter) {
  filter.reset();
  for (auto p : params) {
    if (p.key != "tags") continue;
    TagFilter f;
    f.raw = std::string(p.value);
    const bool comma = f.raw.find(',') != std::string::npos;
    const bool slash = f.raw.find('/') != std::string::npos;
    if (comma && slash) return invalidTagOption("cannot mix ',' (all of) and '/' (any of)");
    f.any = slash;
    const char sep = slash ? '/' : ',';
    std::size_t start = 0;
    while (true) {
      auto end = f.raw.find(sep, start);
      std::string tag = f.raw.substr(start, end == std::string::npos ? end : end - start);
      if (tag.empty()) return invalidTagOption("must not contain empty tags");
      f.tags.push_back(std::move(tag));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (f.tags.size() > 5) return invalidTagOption("cannot query more than 5 tags");
    filter = std::move(f);
    break;
  }
  return std::nullopt;
}

// One page of `total` items (already filtered), item i rendered by `render(i)`; `tagQuery`
// goes into `next`.
inline AdminResponse pageRange(std::size_t total, const std::string& collection,
                               const boost::urls::params_view& params, const std::string& tagQuery,
                               const std::function<json::value(std::size_t)>& render) {
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
  for (std::size_t i = offset; i < total && data.size() < size; ++i) data.push_back(render(i));
  json::object out;
  out["data"] = std::move(data);
  std::size_t next = offset + size;
  if (next < total) {
    out["offset"] = std::to_string(next);
    out["next"] = "/" + std::string(collection) + "?offset=" + std::to_string(next) + tagQuery +
                  "&size=" + std::to_string(size);
  } else {
    out["next"] = nullptr;
  }
  return pagingRespond(200, out);
}

// One page of `all` (already filtered) in Kong's JSON shapes.
template <class Entity>
AdminResponse pageWith(const std::vector<Entity>& all, const std::string& collection,
                       const boost::urls::params_view& params, const std::string& tagQuery) {
  return pageRange(all.size(), collection, params, tagQuery,
                   [&](std::size_t i) -> json::value { return config::toJson(all[i]); });
}


// Kong paginates with an opaque offset; ours is the index of the next entity, base64-free
// but documented as opaque. With a tag filter the offset counts the matching entities.
template <class Entity>
AdminResponse page(const std::vector<Entity>& all, std::string_view collection,
                   const boost::urls::params_view& params) {
  std::optional<TagFilter> tags;
  if (auto bad = parseTagFilter(params, tags)) return *bad;
  if (tags) {
    std::vector<Entity> matching;
    for (const auto& e : all)
      if (tags->matches(e.tags)) matching.push_back(e);
    return pageWith(matching, std::string(collection), params, tags->query());
  }
  return pageWith(all, std::string(collection), params, std::string());
}


}  // namespace archway::admin
