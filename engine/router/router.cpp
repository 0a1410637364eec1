#include "router/router.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <unordered_map>

#include "router/host_table.h"
#include "router/prefix_trie.h"

// How matching stays cheap with many routes while giving exactly the linear scan's answer:
// every matcher gets a rank (its position in Kong's priority order; the first matcher whose
// conditions all hold wins, i.e. the lowest rank). Matchers are filed into buckets by host
// (exact, exact with port, suffix wildcard, prefix wildcard, or "any host"); a request visits
// only the buckets its Host can reach, so host conditions hold by construction. In a bucket,
// prefix paths sit in a radix trie walked along the request path, path-less matchers in a rank
// list, regex matchers in a rank list checked against one RE2::Set run over the path. Each
// candidate's method and header conditions are then checked, and only candidates that could
// still beat the best rank found are looked at. Regexes are evaluated last and lazily, so a
// request that a prefix route wins never runs the set.

namespace archway::router {
namespace {

constexpr std::uint32_t kNone = 0xffffffffu;

// ASCII case folding: hosts and the header values routes list are compared case-insensitively
// byte by byte, independent of the process locale (the console sets one).
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(static_cast<unsigned char>(a[i])) !=
        asciiLower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(asciiLower(static_cast<unsigned char>(c)));
  return out;
}

// Methods as bits so the usual check is one AND. Route methods stay case-sensitive: a request
// method outside this list is compared with the route's strings.
constexpr std::array<std::string_view, 9> kKnownMethods{
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"};

int knownMethod(std::string_view method) {
  for (std::size_t i = 0; i < kKnownMethods.size(); ++i) {
    if (kKnownMethods[i] == method) return static_cast<int>(i);
  }
  return -1;
}

struct HostPattern {
  enum class Kind { exact, suffix, prefix } kind = Kind::exact;
  std::string text;  // lower case; for suffix ".example.com", for prefix "example."
  bool hasPort = false;
};

HostPattern compileHost(const std::string& h) {
  HostPattern p;
  std::string lower = lowerCopy(h);
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

// The host table a pattern is filed in; a pattern's kind decides which part of the Host header
// it is compared with (with or without the port) and how.
enum HostTableKind { kExact, kExactWithPort, kSuffix, kSuffixWithPort, kPrefix, kTableKinds };

}  // namespace

struct Router::Matcher {
  std::uint32_t route = 0;       // index into routes_
  std::uint32_t methodMask = 0;  // kKnownMethods bits among `methods`
  std::uint32_t regex = kNone;   // index into Index::regexes, for a regex-path matcher
  std::vector<std::string> methods;
  std::vector<std::pair<std::string, std::vector<std::string>>> headers;  // lower-case values
  // Build time only. Priority key, compared lexicographically, larger first.
  std::tuple<int, int, int, int, long long, std::size_t> priority;
  std::vector<HostPattern> hosts;
  std::vector<std::string> prefixes;  // one prefix group, all of the same length
  bool anyPath = true;
};

struct Router::Index {
  // The matchers one host key reaches. Ranks in each list are ascending.
  struct Bucket {
    std::uint32_t minRank = kNone;
    std::uint32_t trie = PrefixTrie::kNoTree;
    std::uint32_t anyBegin = 0;  // path-less matchers, in anyPath
    std::uint32_t anyEnd = 0;
    std::uint32_t regexBegin = 0;  // regex-path matchers, in regexRefs
    std::uint32_t regexEnd = 0;
  };
  struct RegexRef {
    std::uint32_t rank;
    std::uint32_t regex;
  };

  // What accepts() needs first, by rank, small and contiguous: most candidates are decided
  // here without touching their Matcher.
  struct Conditions {
    std::uint32_t methodMask = 0;  // Matcher::methodMask
    std::uint32_t route = 0;       // Matcher::route, so the winner needs no other lookup
    bool methods = false;          // the matcher has methods
    bool headers = false;          // the matcher has headers
  };

  std::vector<Conditions> conditions;
  std::array<HostTable, kTableKinds> hosts;
  std::uint32_t anyHost = kNone;  // bucket of matchers without hosts
  std::vector<Bucket> buckets;
  std::vector<std::uint32_t> anyPath;
  std::vector<RegexRef> regexRefs;
  PrefixTrie trie;
  // Distinct regex paths compiled as "^(?:...)"; regexSet holds the same patterns under the
  // same ids, anchored at the start. Null set: the per-regex RE2s are used one by one.
  std::vector<std::unique_ptr<re2::RE2>> regexes;
  std::unique_ptr<re2::RE2::Set> regexSet;
};

Router::Router() = default;
Router::~Router() = default;

core::Result<std::unique_ptr<Router>> Router::build(const core::Config& config,
                                                    const std::vector<std::uint32_t>& statsSlots) {
  std::unique_ptr<Router> r(new Router());
  r->index_ = std::make_unique<Index>();
  Index& ix = *r->index_;
  core::Errors errors;
  std::unordered_map<std::string, std::uint32_t> regexIds;  // source -> index in ix.regexes
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
    for (const auto& method : route.methods) {
      if (int bit = knownMethod(method); bit >= 0) base.methodMask |= 1u << bit;
    }
    for (const auto& h : route.hosts) base.hosts.push_back(compileHost(h));
    for (const auto& [name, values] : route.headers) {
      std::vector<std::string> lower;
      for (const auto& v : values) lower.push_back(lowerCopy(v));
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
        std::string source = path.substr(1);
        auto [it, added] =
            regexIds.try_emplace(source, static_cast<std::uint32_t>(ix.regexes.size()));
        if (added) {
          RE2::Options opts;
          opts.set_log_errors(false);
          auto re = std::make_unique<re2::RE2>("^(?:" + source + ")", opts);
          if (!re->ok()) {
            errors.push_back({"routes[" + std::to_string(i) + "].paths[" + std::to_string(p) + "]",
                              "invalid regex: '" + source + "' (" + re->error() + ")"});
            regexIds.erase(it);
            continue;
          }
          ix.regexes.push_back(std::move(re));
        }
        Matcher m = base;
        m.anyPath = false;
        m.regex = it->second;
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

  if (!ix.regexes.empty()) {
    RE2::Options opts;
    opts.set_log_errors(false);
    // The set's DFA holds every regex path at once; give it room so it rarely falls back.
    opts.set_max_mem(int64_t{64} << 20);
    auto set = std::make_unique<re2::RE2::Set>(opts, re2::RE2::ANCHOR_START);
    bool ok = true;
    std::vector<const std::string*> sources(ix.regexes.size());
    for (const auto& [source, id] : regexIds) sources[id] = &source;
    for (std::size_t id = 0; ok && id < sources.size(); ++id)
      ok = set->Add(*sources[id], nullptr) == static_cast<int>(id);
    if (ok && set->Compile()) ix.regexSet = std::move(set);
  }

  for (const Matcher& m : r->matchers_)
    ix.conditions.push_back({m.methodMask, m.route, !m.methods.empty(), !m.headers.empty()});

  // File every matcher (by ascending rank) into the buckets of its host keys.
  struct BucketBuild {
    std::vector<std::pair<std::string, std::uint32_t>> prefixes;
    std::vector<std::uint32_t> anyPath;
    std::vector<Index::RegexRef> regexes;
  };
  std::vector<BucketBuild> buckets;
  std::array<std::unordered_map<std::string, std::uint32_t>, kTableKinds> keys;
  auto bucketOf = [&](int table, const std::string& key) {
    auto [it, added] = keys[table].try_emplace(key, static_cast<std::uint32_t>(buckets.size()));
    if (added) buckets.emplace_back();
    return it->second;
  };
  std::vector<std::uint32_t> targets;
  for (std::uint32_t rank = 0; rank < r->matchers_.size(); ++rank) {
    const Matcher& m = r->matchers_[rank];
    targets.clear();
    if (m.hosts.empty()) {
      if (ix.anyHost == kNone) {
        ix.anyHost = static_cast<std::uint32_t>(buckets.size());
        buckets.emplace_back();
      }
      targets.push_back(ix.anyHost);
    }
    for (const HostPattern& h : m.hosts) {
      switch (h.kind) {
        case HostPattern::Kind::exact:
          targets.push_back(bucketOf(h.hasPort ? kExactWithPort : kExact, h.text));
          break;
        case HostPattern::Kind::suffix:
          targets.push_back(bucketOf(h.hasPort ? kSuffixWithPort : kSuffix, h.text));
          break;
        case HostPattern::Kind::prefix:
          // A "example.*" pattern with a port never matches anything.
          if (!h.hasPort) targets.push_back(bucketOf(kPrefix, h.text));
          break;
      }
    }
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    for (std::uint32_t b : targets) {
      if (m.regex != kNone)
        buckets[b].regexes.push_back({rank, m.regex});
      else if (m.anyPath)
        buckets[b].anyPath.push_back(rank);
      else
        for (const auto& p : m.prefixes) buckets[b].prefixes.emplace_back(p, rank);
    }
  }
  ix.buckets.resize(buckets.size());
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    BucketBuild& in = buckets[b];
    Index::Bucket& out = ix.buckets[b];
    for (const auto& p : in.prefixes) out.minRank = std::min(out.minRank, p.second);
    if (!in.anyPath.empty()) out.minRank = std::min(out.minRank, in.anyPath.front());
    if (!in.regexes.empty()) out.minRank = std::min(out.minRank, in.regexes.front().rank);
    out.trie = ix.trie.addTree(std::move(in.prefixes));
    out.anyBegin = static_cast<std::uint32_t>(ix.anyPath.size());
    ix.anyPath.insert(ix.anyPath.end(), in.anyPath.begin(), in.anyPath.end());
    out.anyEnd = static_cast<std::uint32_t>(ix.anyPath.size());
    out.regexBegin = static_cast<std::uint32_t>(ix.regexRefs.size());
    ix.regexRefs.insert(ix.regexRefs.end(), in.regexes.begin(), in.regexes.end());
    out.regexEnd = static_cast<std::uint32_t>(ix.regexRefs.size());
  }
  for (int t = 0; t < kTableKinds; ++t) {
    ix.hosts[t] = HostTable(
        std::vector<std::pair<std::string, std::uint32_t>>(keys[t].begin(), keys[t].end()));
  }
  // What only the build needed.
  for (Matcher& m : r->matchers_) {
    m.hosts = {};
    m.prefixes = {};
  }
  return r;
}

Match Router::match(const RequestView& req) const {
  const Index& ix = *index_;
  std::string_view hostOnly = req.host;
  if (!hostOnly.empty() && hostOnly.front() != '[') {
    if (auto colon = hostOnly.rfind(':'); colon != std::string_view::npos)
      hostOnly = hostOnly.substr(0, colon);
  }
  const int methodBit = knownMethod(req.method);
  std::uint32_t best = kNone;
  std::size_t bestLength = 0;
  std::uint32_t bestRegex = kNone;

  // The conditions the indexes do not cover: methods and headers.
  auto accepts = [&](std::uint32_t rank) {
    const Index::Conditions c = ix.conditions[rank];
    if (c.methods) {
      if (methodBit >= 0) {
        if (((c.methodMask >> methodBit) & 1u) == 0) return false;
      } else {
        const auto& methods = matchers_[rank].methods;
        if (std::find(methods.begin(), methods.end(), req.method) == methods.end()) return false;
      }
    }
    if (!c.headers) return true;
    for (const auto& [name, values] : matchers_[rank].headers) {
      std::string_view v = req.header ? req.header(req.headerContext, name) : std::string_view{};
      if (v.empty() || std::none_of(values.begin(), values.end(),
                                    [&](const std::string& x) { return iequals(x, v); })) {
        return false;
      }
    }
    return true;
  };

  // Path-less and prefix candidates of one bucket.
  auto visitPlain = [&](const Index::Bucket& b) {
    for (std::uint32_t i = b.anyBegin; i < b.anyEnd; ++i) {
      std::uint32_t rank = ix.anyPath[i];
      if (rank >= best) break;
      if (accepts(rank)) {
        best = rank;
        bestLength = 0;
        bestRegex = kNone;
        break;
      }
    }
    ix.trie.walk(b.trie, req.path, best,
                 [&](const std::uint32_t* ranks, std::uint32_t count, std::size_t length) {
                   for (std::uint32_t k = 0; k < count && ranks[k] < best; ++k) {
                     if (accepts(ranks[k])) {
                       best = ranks[k];
                       bestLength = length;
                       bestRegex = kNone;
                       break;
                     }
                   }
                 });
  };

  // The set runs at most once per request, and only when a regex candidate could still win;
  // once it has run, its answer filters candidates before their conditions are looked at.
  enum class SetState { notRun, ran, unusable } setState = SetState::notRun;
  thread_local std::vector<int> setHits;  // reused: no allocation per request once warm
  const re2::StringPiece input(req.path.data(), req.path.size());
  auto setSaysNo = [&](std::uint32_t id) {
    return setState == SetState::ran &&
           !std::binary_search(setHits.begin(), setHits.end(), static_cast<int>(id));
  };
  auto regexMatches = [&](std::uint32_t id, std::size_t& length) {
    if (setState == SetState::notRun) {
      setState = SetState::unusable;
      if (ix.regexSet) {
        re2::RE2::Set::ErrorInfo info{};
        if (ix.regexSet->Match(input, &setHits, &info) || info.kind == re2::RE2::Set::kNoError) {
          std::sort(setHits.begin(), setHits.end());
          setState = SetState::ran;
        }
      }
      if (setSaysNo(id)) return false;
    }
    // The set says which regexes match; only the full RE2 says how much of the path.
    re2::StringPiece whole;
    if (!ix.regexes[id]->Match(input, 0, input.size(), re2::RE2::ANCHOR_START, &whole, 1))
      return false;
    length = whole.size();
    return true;
  };
  auto visitRegex = [&](const Index::Bucket& b) {
    for (std::uint32_t i = b.regexBegin; i < b.regexEnd; ++i) {
      if (setState == SetState::ran && setHits.empty()) return;  // the usual answer
      const Index::RegexRef& ref = ix.regexRefs[i];
      if (ref.rank >= best) break;
      if (setSaysNo(ref.regex) || !accepts(ref.rank)) continue;
      std::size_t length = 0;
      if (regexMatches(ref.regex, length)) {
        best = ref.rank;
        bestLength = length;
        bestRegex = ref.regex;
        break;
      }
    }
  };

  // Regex candidates wait until every bucket's cheap candidates have set the bar; a Host with
  // absurdly many matching suffix keys gets its overflow handled on the spot instead.
  std::array<std::uint32_t, 32> pending;
  std::size_t pendingCount = 0;
  auto consider = [&](std::uint32_t bucket) {
    if (bucket == HostTable::kNotFound) return;
    const Index::Bucket& b = ix.buckets[bucket];
    if (b.minRank >= best) return;
    visitPlain(b);
    if (b.regexBegin == b.regexEnd) return;
    if (pendingCount < pending.size())
      pending[pendingCount++] = bucket;
    else
      visitRegex(b);
  };
  auto considerSuffixes = [&](const HostTable& table, std::string_view h) {
    if (table.empty()) return;
    // Suffix keys start with '.', and the wildcard needs at least one byte before it.
    std::uint64_t hash = HostTable::kHashSeed;
    for (std::size_t i = h.size(); i-- > 1;) {
      hash = HostTable::hashPrepend(hash, static_cast<unsigned char>(h[i]));
      if (h[i] == '.') consider(table.find(h.substr(i), hash));
    }
  };

  if (!ix.hosts[kExact].empty()) consider(ix.hosts[kExact].find(hostOnly));
  if (!ix.hosts[kExactWithPort].empty()) consider(ix.hosts[kExactWithPort].find(req.host));
  considerSuffixes(ix.hosts[kSuffix], hostOnly);
  considerSuffixes(ix.hosts[kSuffixWithPort], req.host);
  if (!ix.hosts[kPrefix].empty()) {
    // "example.*" takes the Host up to its last dot, with something after that dot.
    if (auto dot = hostOnly.rfind('.'); dot != std::string_view::npos && dot + 1 < hostOnly.size())
      consider(ix.hosts[kPrefix].find(hostOnly.substr(0, dot + 1)));
  }
  if (ix.anyHost != kNone) consider(ix.anyHost);
  for (std::size_t i = 0; i < pendingCount; ++i) {
    const Index::Bucket& b = ix.buckets[pending[i]];
    if (b.minRank < best) visitRegex(b);
  }

  if (best == kNone) return {};
  return Match{&routes_[ix.conditions[best].route], bestLength, bestRegex};
}

bool Router::captures(const Match& m, std::string_view path, Captures& out) const {
  out.clear();
  if (!m.byRegex() || m.regex >= index_->regexes.size()) return false;
  const re2::RE2& re = *index_->regexes[m.regex];
  const int n = re.NumberOfCapturingGroups() + 1;
  thread_local std::vector<re2::StringPiece> scratch;  // reused: no allocation once warm
  if (scratch.size() < static_cast<std::size_t>(n)) scratch.resize(static_cast<std::size_t>(n));
  const re2::StringPiece input(path.data(), path.size());
  if (!re.Match(input, 0, input.size(), re2::RE2::ANCHOR_START, scratch.data(), n)) return false;
  if (out.groups_.size() < static_cast<std::size_t>(n))
    out.groups_.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const re2::StringPiece& g = scratch[static_cast<std::size_t>(i)];
    out.groups_[static_cast<std::size_t>(i)] =
        g.data() ? std::string_view(g.data(), g.size()) : std::string_view{};
  }
  out.count_ = static_cast<std::size_t>(n);
  out.names_ = &re.NamedCapturingGroups();
  return true;
}

}  // namespace archway::router
