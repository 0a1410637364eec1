#pragma once
// The compiled, immutable route table of one config snapshot, with Kong 3.x
// `traditional_compatible` priorities (kong-reference §4.2): match weight (number of fields
// set), plain hosts before wildcard hosts, more headers first, regex paths (by regex_priority)
// before prefix paths, longer prefixes first. Built on the control thread; matched
// concurrently by every worker without locks.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/entities.h"
#include "core/result.h"
#include "router/captures.h"

namespace re2 {
class RE2;
}

namespace archway::router {

// One route with its service, as the proxy needs them.
struct CompiledRoute {
  const core::Route* route = nullptr;
  const core::Service* service = nullptr;  // null: route without service (answers 503)
  std::uint32_t statsSlot = 0xffffffffu;
  std::uint32_t index = 0;  // position in the config's routes
};

// The request fields the router looks at. `path` is the normalised path without the query.
struct RequestView {
  std::string_view method;
  std::string_view host;  // Host header, may carry :port
  std::string_view path;
  std::string_view protocol = "http";
  // Header lookup for routes with `headers`; null when no route uses headers.
  const void* headerContext = nullptr;
  std::string_view (*header)(const void* ctx, std::string_view lowerName) = nullptr;
};

struct Match {
  const CompiledRoute* route = nullptr;
  // The part of the path the route matched (the prefix, or the regex's whole match), for
  // strip_path.
  std::size_t matchedLength = 0;
  // The regex path the route matched with (internal id), kNoRegex for prefix and path-less
  // matches.
  static constexpr std::uint32_t kNoRegex = 0xffffffffu;
  std::uint32_t regex = kNoRegex;
  bool byRegex() const { return regex != kNoRegex; }
  explicit operator bool() const { return route != nullptr; }
};

class Router {
 public:
  // `config` must outlive the router (the snapshot owns both). `slotOf` gives each route's
  // stats slot. Regexes are compiled with RE2; errors name the field path.
  static core::Result<std::unique_ptr<Router>> build(const core::Config& config,
                                                     const std::vector<std::uint32_t>& statsSlots);
  ~Router();

  Match match(const RequestView& request) const;
  // The groups of the regex `m` matched with, run again over the same `path` (only when
  // something needs them: the winner's regex alone, not the set). False, with `out` cleared,
  // for a match without a regex. No allocation once `out` and the thread's scratch are warm.
  bool captures(const Match& m, std::string_view path, Captures& out) const;
  std::size_t size() const { return routes_.size(); }
  const std::vector<CompiledRoute>& routes() const { return routes_; }
  bool usesHeaders() const { return usesHeaders_; }

 private:
  struct Matcher;
  struct Index;
  Router();
  std::vector<CompiledRoute> routes_;
  // Sorted by priority, highest first; a matcher's position is its rank (lower wins).
  std::vector<Matcher> matchers_;
  std::unique_ptr<Index> index_;  // host, prefix and regex indexes over matchers_
  bool usesHeaders_ = false;
};

}  // namespace archway::router
