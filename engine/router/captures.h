#pragma once
// The groups of the regex path a route matched with: Kong's
// ngx.ctx.router_matches.uri_captures, for `hash_on: uri_capture` and request-transformer's
// $(uri_captures...). Filled by Router::captures(); the views point into the path that was
// matched, so that path must outlive them. The owner (a downstream session) reuses one object
// per request: clear() and refills keep the capacity, so the steady state does not allocate.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace archway::router {

class Captures {
 public:
  // Number of groups, the whole match (group 0) included; 0 when the route did not match with
  // a regex path.
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // Whether group `i` took part in the match (an optional group may not have).
  bool has(std::size_t i) const { return i < count_ && groups_[i].data() != nullptr; }
  // Group `i`; empty when absent.
  std::string_view group(std::size_t i) const { return has(i) ? groups_[i] : std::string_view{}; }

  // The group named `name` ((?P<name>...)); false when there is no such group or it took no
  // part in the match.
  bool find(std::string_view name, std::string_view& out) const {
    if (!names_) return false;
    for (const auto& [n, i] : *names_) {
      if (n == name) {
        if (!has(static_cast<std::size_t>(i))) return false;
        out = groups_[static_cast<std::size_t>(i)];
        return true;
      }
    }
    return false;
  }
  // The named group, empty when absent.
  std::string_view named(std::string_view name) const {
    std::string_view v;
    return find(name, v) ? v : std::string_view{};
  }
  // Group names and their indexes (name order); null when the regex has none.
  const std::map<std::string, int>* names() const { return names_; }

  void clear() {
    count_ = 0;
    names_ = nullptr;
  }

 private:
  friend class Router;
  std::vector<std::string_view> groups_;  // only the first count_ are current
  std::size_t count_ = 0;
  const std::map<std::string, int>* names_ = nullptr;  // owned by the router's RE2
};

}  // namespace archway::router
