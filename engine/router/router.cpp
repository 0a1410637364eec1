#include "router/router.h"

#include <re2/re2.h>

#include <algorithm>
#include <tuple>

namespace archway::router {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

struct HostPattern {
  enum class Kind { exact, suffix, prefix } kind = Kind::exact;
  std::string text;  // lower case; for suffix ".example.com", for prefix "example."
  bool hasPort = false;
};

HostPattern compileHost(const std::string& h) {
  HostPattern p;
  std::string lower;
  for (char c : h) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.hasPort = lower.find(':') != std::string::npos && lower.find(']') == std::string::npos;
  if (lower.rfind("*.", 0) == 0) {
    p.kind = HostPattern::Kind::suffix;
    p.text = lower.substr(1);
  } else if (lower.size() >= 2 && lower.compare(lower.size() - 2, 2, ".*") == 0) {
    p.kind = HostPattern::Kind::prefix;
    p.text = lower.substr(0, lower.size() - 1);
  } else {
    p.text = lower;
  }
  return p;
}

bool hostMatches(const HostPattern& p, std::string_view hostWithPort, std::string_view hostOnly) {
  std::string_view h = p.hasPort ? hostWithPort : hostOnly;
  switch (p.kind) {
    case HostPattern::Kind::exact:
      return iequals(h, p.text);
    case HostPattern::Kind::suffix:
      return h.size() > p.text.size() && iequals(h.substr(h.size() - p.text.size()), p.text);
    case HostPattern::Kind::prefix:
      if (p.hasPort) return false;
      return h.size() > p.text.size() && iequals(h.substr(0, p.text.size()), p.text) &&
             h.find('.', p.text.size()) == std::string_view::npos;
  }
  return false;
}

}  // namespace

struct Router::Matcher {
  std::uint32_t route = 0;  // index into routes_
  // Priority key, compared lexicographically, larger first.
  std::tuple<int, int, int, int, long long, std::size_t> priority;
  std::vector<std::string> methods;
  std::vector<HostPattern> hosts;
  std::vector<std::pair<std::string, std::vector<std::string>>> headers;  // lower-case values
  std::vector<std::string> prefixes;  // one prefix group, all of the same length
  std::shared_ptr<re2::RE2> regex;    // or one regex path
  bool anyPath = true;
};

Router::Router() = default;
Router::~Router() = default;

core::Result<std::unique_ptr<Router>> Router::build(const core::Config& config,
                                                    const std::vector<std::uint32_t>& statsSlots) {
  std::unique_ptr<Router> r(new Router());
  core::Errors errors;
  r->routes_.reserve(config.routes.size());
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const auto& route = config.routes[i];
    const core::Service* service = route.serviceId ? config.findService(*route.serviceId) : nullptr;
    if (service && !service->enabled) continue;  // Kong leaves routes of disabled services out
    bool http = std::any_of(route.protocols.begin(), route.protocols.end(),
                            [](const std::string& p) { return p == "http" || p == "https"; });
    if (!http) continue;
    auto routeIndex = static_cast<std::uint32_t>(r->routes_.size());
    r->routes_.push_back(CompiledRoute{&route, service,
                                       i < statsSlots.size() ? statsSlots[i] : 0xffffffffu,
                                       static_cast<std::uint32_t>(i)});

    Matcher base;
    base.route = routeIndex;
    base.methods = route.methods;
    for (const auto& h : route.hosts) base.hosts.push_back(compileHost(h));
    for (const auto& [name, values] : route.headers) {
      std::vector<std::string> lower;
      for (const auto& v : values) {
        std::string l;
        for (char c : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        lower.push_back(l);
      }
      base.headers.emplace_back(name, lower);
    }
    if (!route.headers.empty()) r->usesHeaders_ = true;
    int weight = (!route.methods.empty()) + (!route.hosts.empty()) + (!route.headers.empty()) +
                 (!route.paths.empty());
    bool plainHosts =
        !route.hosts.empty() &&
        std::none_of(route.hosts.begin(), route.hosts.end(),
                     [](const std::string& h) { return h.find('*') != std::string::npos; });
    int headerCount = std::min<int>(255, static_cast<int>(route.headers.size()));

    if (route.paths.empty()) {
      Matcher m = base;
      m.priority = {weight, plainHosts, headerCount, 0, 0, 0};
      r->matchers_.push_back(std::move(m));
      continue;
    }
    // One matcher per regex path and per prefix length, as Kong splits them.
    std::vector<std::pair<std::size_t, std::vector<std::string>>> byLength;
    for (std::size_t p = 0; p < route.paths.size(); ++p) {
      const std::string& path = route.paths[p];
      if (path.rfind("~", 0) == 0) {
        RE2::Options opts;
        opts.set_log_errors(false);
        auto re = std::make_shared<re2::RE2>("^(?:" + path.substr(1) + ")", opts);
        if (!re->ok()) {
          errors.push_back({"routes[" + std::to_string(i) + "].paths[" + std::to_string(p) + "]",
                            "invalid regex: '" + path.substr(1) + "' (" + re->error() + ")"});
          continue;
        }
        Matcher m = base;
        m.anyPath = false;
        m.regex = std::move(re);
        m.priority = {weight, plainHosts, headerCount, 1, route.regexPriority, 0};
        r->matchers_.push_back(std::move(m));
      } else {
        auto it = std::find_if(byLength.begin(), byLength.end(),
                               [&](const auto& g) { return g.first == path.size(); });
        if (it == byLength.end())
          byLength.push_back({path.size(), {path}});
        else
          it->second.push_back(path);
      }
    }
    for (auto& [len, prefixes] : byLength) {
      Matcher m = base;
      m.anyPath = false;
      m.prefixes = std::move(prefixes);
      m.priority = {weight, plainHosts, headerCount, 0, 0, len};
      r->matchers_.push_back(std::move(m));
    }
  }
  if (!errors.empty()) return errors;
  std::stable_sort(r->matchers_.begin(), r->matchers_.end(),
                   [](const Matcher& a, const Matcher& b) { return a.priority > b.priority; });
  return r;
}

Match Router::match(const RequestView& req) const {
  std::string_view hostOnly = req.host;
  if (!hostOnly.empty() && hostOnly.front() != '[') {
    if (auto colon = hostOnly.rfind(':'); colon != std::string_view::npos)
      hostOnly = hostOnly.substr(0, colon);
  }
  for (const Matcher& m : matchers_) {
    if (!m.methods.empty() &&
        std::find(m.methods.begin(), m.methods.end(), req.method) == m.methods.end()) {
      continue;
    }
    if (!m.hosts.empty() && std::none_of(m.hosts.begin(), m.hosts.end(), [&](const HostPattern& p) {
          return hostMatches(p, req.host, hostOnly);
        })) {
      continue;
    }
    if (!m.headers.empty()) {
      bool all = true;
      for (const auto& [name, values] : m.headers) {
        std::string_view v = req.header ? req.header(req.headerContext, name) : std::string_view{};
        if (v.empty() || std::none_of(values.begin(), values.end(),
                                      [&](const std::string& x) { return iequals(x, v); })) {
          all = false;
          break;
        }
      }
      if (!all) continue;
    }
    std::size_t matched = 0;
    if (!m.anyPath) {
      if (m.regex) {
        re2::StringPiece whole;
        re2::StringPiece input(req.path.data(), req.path.size());
        if (!m.regex->Match(input, 0, input.size(), re2::RE2::ANCHOR_START, &whole, 1)) continue;
        matched = whole.size();
      } else {
        bool hit = false;
        for (const auto& prefix : m.prefixes) {
          if (req.path.substr(0, prefix.size()) == prefix) {
            hit = true;
            matched = prefix.size();
            break;
          }
        }
        if (!hit) continue;
      }
    }
    return Match{&routes_[m.route], matched};
  }
  return {};
}

}  // namespace archway::router
