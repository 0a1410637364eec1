#include "balancer/upstream_balancer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "net/dns_resolver.h"

namespace archway::balancer {

namespace {

// Kong's latency algorithm: an exponentially weighted moving average that decays with a 10 s
// time constant, so an idle slow target is tried again after a while.
constexpr double kDecaySeconds = 10.0;

std::atomic<std::uint64_t> nextInstance{1};

// FNV-1a 64 with a splitmix64 finalizer: stable across processes and builds, so every node of a
// cluster maps a key to the same target.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t hashBytes(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return mix(h);
}

bool contains(std::span<const int> v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

double decayed(const WorkerState::Entry& e, Clock::TimePoint now) {
  double td = std::chrono::duration<double>(now - e.touched).count();
  if (td < 0) td = 0;
  return e.ewmaUs * std::exp(-td / kDecaySeconds);
}

}  // namespace

std::optional<Algorithm> parseAlgorithm(std::string_view n) {
  if (n == "round-robin") return Algorithm::roundRobin;
  if (n == "least-connections") return Algorithm::leastConnections;
  if (n == "consistent-hashing") return Algorithm::consistentHashing;
  if (n == "latency") return Algorithm::latency;
  return std::nullopt;
}

std::optional<HashOn> parseHashOn(std::string_view n) {
  if (n == "none") return HashOn::none;
  if (n == "consumer") return HashOn::consumer;
  if (n == "ip") return HashOn::ip;
  if (n == "header") return HashOn::header;
  if (n == "cookie") return HashOn::cookie;
  if (n == "path") return HashOn::path;
  if (n == "query_arg") return HashOn::queryArg;
  if (n == "uri_capture") return HashOn::uriCapture;
  return std::nullopt;
}

core::Result<std::shared_ptr<const UpstreamBalancer>> UpstreamBalancer::build(
    const core::Upstream& upstream, std::span<const core::Target* const> targets,
    std::shared_ptr<HealthState> health, BalancerOptions options) {
  core::Errors errors;
  auto algorithm = parseAlgorithm(upstream.algorithm);
  if (!algorithm) errors.push_back({"algorithm", "unknown algorithm " + upstream.algorithm});
  auto hashOn = parseHashOn(upstream.hashOn);
  if (!hashOn)
    errors.push_back({"hash_on",
                      "expected one of: none, consumer, ip, header, "
                      "cookie, path, query_arg, uri_capture"});
  auto hashFallback = parseHashOn(upstream.hashFallback);
  if (!hashFallback) {
    errors.push_back({"hash_fallback",
                      "expected one of: none, consumer, ip, header, cookie, "
                      "path, query_arg, uri_capture"});
  }
  if (!errors.empty()) return errors;

  std::shared_ptr<UpstreamBalancer> b(new UpstreamBalancer());
  b->instance_ = nextInstance.fetch_add(1, std::memory_order_relaxed);
  b->upstreamId_ = upstream.id;
  b->upstreamName_ = upstream.name;
  b->algorithm_ = *algorithm;
  b->hashOn_ = *hashOn;
  b->hashFallback_ = *hashFallback;
  auto nameFor = [&](HashOn on, bool primary) -> std::optional<std::string> {
    switch (on) {
      case HashOn::header:
        return primary ? upstream.hashOnHeader : upstream.hashFallbackHeader;
      case HashOn::queryArg:
        return primary ? upstream.hashOnQueryArg : upstream.hashFallbackQueryArg;
      case HashOn::uriCapture:
        return primary ? upstream.hashOnUriCapture : upstream.hashFallbackUriCapture;
      case HashOn::cookie:
        return upstream.hashOnCookie;
      default:
        return std::nullopt;
    }
  };
  b->hashOnName_ = nameFor(b->hashOn_, true);
  b->hashFallbackName_ = nameFor(b->hashFallback_, false);
  b->cookieName_ = upstream.hashOnCookie.value_or("");
  b->cookiePath_ = upstream.hashOnCookiePath;
  b->hostHeader_ = upstream.hostHeader;
  b->threshold_ = upstream.healthchecks.threshold;
  b->checksOn_ = usesHealthchecks(upstream.healthchecks);
  b->passive_ = CheckRules::passive(upstream.healthchecks.passive);
  b->clock_ = options.clock ? options.clock : &steadyClock();

  if (!health) {
    health = std::make_shared<HealthState>(upstream.id, nullptr);
    health->sync(upstream, targets);
  }
  b->healthState_ = health;

  // Config order, one entry per address (the last duplicate wins, as in HealthState::sync).
  std::unordered_map<std::string, std::size_t> seen;
  auto keys = std::make_shared<std::vector<std::string>>();
  for (const core::Target* t : targets) {
    auto addr = parseTargetAddress(t->target);
    if (!addr) continue;
    Target entry{addr->text(), std::move(*addr), std::max(0, t->weight)};
    if (auto it = seen.find(entry.key); it != seen.end()) {
      b->targets_[it->second] = std::move(entry);
      continue;
    }
    seen.emplace(entry.key, b->targets_.size());
    b->targets_.push_back(std::move(entry));
  }
  for (const auto& t : b->targets_) {
    keys->push_back(t.key);
    auto h = health->find(t.key);
    // Not in the registry (it was synced with another config): a detached healthy state.
    if (!h) h = std::make_shared<TargetHealth>(upstream.id, t.key, nullptr);
    b->health_.push_back(std::move(h));
  }
  b->keys_ = std::move(keys);

  if (b->algorithm_ == Algorithm::consistentHashing) {
    // Each slot goes to the target with the highest weighted rendezvous score
    // w / -ln(u(slot, target)): a target owns a share of slots proportional to its weight, and
    // removing (or adding) a target moves only the slots it owns (or takes), so only its keys
    // are remapped.
    const auto slots = static_cast<std::size_t>(std::clamp(upstream.slotCount, 10, 65536));
    b->slotOwner_.assign(slots, std::numeric_limits<std::uint32_t>::max());
    std::vector<std::uint64_t> seeds;
    for (const auto& t : b->targets_) seeds.push_back(hashBytes(t.key));
    for (std::size_t s = 0; s < slots; ++s) {
      double best = -1;
      for (std::size_t i = 0; i < b->targets_.size(); ++i) {
        if (b->targets_[i].weight <= 0) continue;
        std::uint64_t h = mix(seeds[i] ^ mix(s));
        double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
        double score = b->targets_[i].weight / -std::log(u);
        if (score > best) {
          best = score;
          b->slotOwner_[s] = static_cast<std::uint32_t>(i);
        }
      }
    }
  }
  return std::shared_ptr<const UpstreamBalancer>(std::move(b));
}

bool UpstreamBalancer::usable(int index) const {
  const auto i = static_cast<std::size_t>(index);
  if (targets_[i].weight <= 0) return false;
  const TargetHealth& h = *health_[i];
  if (h.dnsError()) return false;
  if (!targets_[i].address.isIp) return healthState_->weights(targets_[i].key).available > 0;
  return !checksOn_ || h.healthy();
}

// The weight target `index` can take in this worker: 0 when it takes nothing (weight 0, DNS
// error, unhealthy); a hostname target whose answer this worker holds weighs its healthy
// addresses. One not resolved by this worker yet goes by the target's own state (healthy while
// one of its addresses is, as last known): pickAddress() finds out the rest.
std::int64_t UpstreamBalancer::availableWeight(const WorkerState& s, int index) const {
  const auto i = static_cast<std::size_t>(index);
  const int w = targets_[i].weight;
  if (w <= 0 || health_[i]->dnsError()) return 0;
  if (i < s.entries_.size() && !s.entries_[i].addressHealth.empty()) {
    const auto& e = s.entries_[i];
    // The address set changed since this worker mapped its answer (another worker or a probe
    // resolved the name anew): pickAddress() maps it again.
    if (!checksOn_ || e.addressGeneration != health_[i]->addressGeneration())
      return e.addressWeight;
    std::int64_t sum = 0;
    for (std::size_t k = 0; k < e.addressHealth.size(); ++k) {
      if (e.addressHealth[k]->healthy()) sum += addressWeight((*e.addresses)[k], w);
    }
    return sum;
  }
  if (checksOn_ && !health_[i]->healthy()) return 0;  // a name: healthy while one address is
  return weightOf(s, index);
}

bool UpstreamBalancer::admits(long long available, long long total) const {
  if (total <= 0 || available <= 0) return false;
  return static_cast<double>(available) * 100.0 > threshold_ * static_cast<double>(total);
}

UpstreamBalancer::Health UpstreamBalancer::health() const {
  Health out;
  for (int i = 0; i < size(); ++i) {
    const auto& t = targets_[static_cast<std::size_t>(i)];
    if (!t.address.isIp) {  // its addresses' weights, as the HealthState knows them
      const auto w = healthState_->weights(t.key);
      out.total += w.total;
      out.available += w.available;
      continue;
    }
    if (health_[static_cast<std::size_t>(i)]->dnsError()) continue;  // no address: no weight
    out.total += t.weight;
    if (usable(i)) out.available += t.weight;
  }
  out.unavailable = out.total - out.available;
  out.healthy = admits(out.available, out.total);
  return out;
}

void UpstreamBalancer::bind(WorkerState& state) const {
  if (state.boundTo_ == instance_) return;
  std::vector<WorkerState::Entry> entries(targets_.size());
  if (state.keys_) {
    std::unordered_map<std::string_view, std::size_t> old;
    for (std::size_t i = 0; i < state.keys_->size(); ++i) old.emplace((*state.keys_)[i], i);
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      if (auto it = old.find(targets_[i].key); it != old.end()) {
        entries[i] = state.entries_[it->second];
        entries[i].current = 0;  // the weights changed: restart the smooth sequence
        bindAddresses(entries[i], static_cast<int>(i), false);
      }
    }
  }
  state.entries_ = std::move(entries);
  state.keys_ = keys_;
  state.boundTo_ = instance_;
}

WorkerState::Entry* UpstreamBalancer::entryFor(WorkerState& state, int index) const {
  if (index < 0 || index >= size()) return nullptr;
  if (state.boundTo_ == instance_) return &state.entries_[static_cast<std::size_t>(index)];
  if (!state.keys_) {
    bind(state);
    return &state.entries_[static_cast<std::size_t>(index)];
  }
  // A request that started on another snapshot of this upstream: find the target by key.
  const auto& key = targets_[static_cast<std::size_t>(index)].key;
  for (std::size_t i = 0; i < state.keys_->size(); ++i) {
    if ((*state.keys_)[i] == key) return &state.entries_[i];
  }
  return nullptr;
}

int UpstreamBalancer::pick(WorkerState& state, const HashInput& input,
                           std::span<const int> alreadyTried) const {
  bind(state);
  long long total = 0, available = 0;
  for (int i = 0; i < size(); ++i) {
    if (health_[static_cast<std::size_t>(i)]->dnsError()) continue;
    total += weightOf(state, i);
    available += availableWeight(state, i);
  }
  if (!admits(available, total)) return -1;

  switch (algorithm_) {
    case Algorithm::consistentHashing:
      return pickHashed(state, input, alreadyTried);
    case Algorithm::roundRobin: {
      int i = pickRoundRobin(state, alreadyTried, false);
      return i >= 0 ? i : pickRoundRobin(state, alreadyTried, true);
    }
    case Algorithm::leastConnections: {
      int i = pickLeastConnections(state, alreadyTried, false);
      return i >= 0 ? i : pickLeastConnections(state, alreadyTried, true);
    }
    case Algorithm::latency: {
      int i = pickLatency(state, alreadyTried, false);
      return i >= 0 ? i : pickLatency(state, alreadyTried, true);
    }
  }
  return -1;
}

// nginx's smooth weighted round-robin: every candidate gains its weight, the richest is chosen
// and pays the round's total. Over sum(weights) picks each target gets exactly its weight, and
// the picks of a heavy target are spread out instead of bunched together.
int UpstreamBalancer::pickRoundRobin(WorkerState& s, std::span<const int> tried,
                                     bool allowTried) const {
  int best = -1;
  std::int64_t total = 0;
  for (int i = 0; i < size(); ++i) {
    const std::int64_t w = availableWeight(s, i);
    if (w <= 0 || (!allowTried && contains(tried, i))) continue;
    auto& e = s.entries_[static_cast<std::size_t>(i)];
    e.current += w;
    total += w;
    if (best < 0 || e.current > s.entries_[static_cast<std::size_t>(best)].current) best = i;
  }
  if (best >= 0) s.entries_[static_cast<std::size_t>(best)].current -= total;
  return best;
}

// Kong's score (active + 1) / weight: the least loaded relative to its weight; ties rotate so
// equal targets share the load.
int UpstreamBalancer::pickLeastConnections(WorkerState& s, std::span<const int> tried,
                                           bool allowTried) const {
  const int n = size();
  if (n == 0) return -1;
  const int start = static_cast<int>(s.cursor_++ % static_cast<std::uint64_t>(n));
  int best = -1;
  for (int k = 0; k < n; ++k) {
    const int i = (start + k) % n;
    if (!usable(s, i) || (!allowTried && contains(tried, i))) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const auto& a = s.entries_[static_cast<std::size_t>(i)];
    const auto& b = s.entries_[static_cast<std::size_t>(best)];
    const std::int64_t lhs = static_cast<std::int64_t>(a.active + 1) * availableWeight(s, best);
    const std::int64_t rhs = static_cast<std::int64_t>(b.active + 1) * availableWeight(s, i);
    if (lhs < rhs) best = i;
  }
  return best;
}

// Lowest decayed EWMA / weight. Targets without a sample come first (one at a time: a target
// already busy with its first request waits for that sample), so every target gets measured.
int UpstreamBalancer::pickLatency(WorkerState& s, std::span<const int> tried,
                                  bool allowTried) const {
  const int n = size();
  if (n == 0) return -1;
  const auto now = clock_->now();
  const int start = static_cast<int>(s.cursor_++ % static_cast<std::uint64_t>(n));
  int best = -1, bestTier = 3, bestActive = 0;
  double bestScore = 0;
  for (int k = 0; k < n; ++k) {
    const int i = (start + k) % n;
    if (!usable(s, i) || (!allowTried && contains(tried, i))) continue;
    const auto& e = s.entries_[static_cast<std::size_t>(i)];
    int tier = e.sampled ? 1 : (e.active == 0 ? 0 : 2);
    double score = e.sampled ? decayed(e, now) / static_cast<double>(availableWeight(s, i)) : 0;
    bool better = best < 0 || tier < bestTier ||
                  (tier == bestTier && tier == 1 && score < bestScore) ||
                  (tier == bestTier && tier == 2 && e.active < bestActive);
    if (better) {
      best = i;
      bestTier = tier;
      bestScore = score;
      bestActive = e.active;
    }
  }
  return best;
}

std::string_view UpstreamBalancer::hashValue(HashOn on, const std::optional<std::string>& name,
                                             const HashInput& in) const {
  switch (on) {
    case HashOn::none:
      return {};
    case HashOn::consumer:
      return in.consumer;
    case HashOn::ip:
      return in.ip;
    case HashOn::path:
      return in.path;
    case HashOn::header:
      return name && in.header ? in.header(in.context, *name) : std::string_view{};
    case HashOn::cookie:
      return name && in.cookie ? in.cookie(in.context, *name) : std::string_view{};
    case HashOn::queryArg:
      return name && in.queryArg ? in.queryArg(in.context, *name) : std::string_view{};
    case HashOn::uriCapture:
      return name && in.uriCapture ? in.uriCapture(in.context, *name) : std::string_view{};
  }
  return {};
}

int UpstreamBalancer::pickHashed(WorkerState& s, const HashInput& in,
                                 std::span<const int> tried) const {
  if (slotOwner_.empty()) return -1;
  std::string_view key = hashValue(hashOn_, hashOnName_, in);
  // Kong ignores hash_fallback when hashing on a cookie (the cookie is always made up).
  if (key.empty() && hashOn_ != HashOn::cookie)
    key = hashValue(hashFallback_, hashFallbackName_, in);
  const std::size_t slots = slotOwner_.size();
  s.lastHash_ = key.empty() ? mix(s.cursor_++) : hashBytes(key);
  std::size_t slot = static_cast<std::size_t>(s.lastHash_ % slots);
  // Walk the ring from the key's slot to the first usable owner (not tried yet, if possible):
  // a key keeps its target while that target is usable, and moves back when it recovers.
  int fallback = -1;
  for (std::size_t k = 0; k < slots; ++k) {
    const auto owner = slotOwner_[(slot + k) % slots];
    if (owner == std::numeric_limits<std::uint32_t>::max()) continue;
    const int i = static_cast<int>(owner);
    if (!usable(s, i)) continue;
    if (!contains(tried, i)) return i;
    if (fallback < 0) fallback = i;
  }
  return fallback;
}

std::int64_t UpstreamBalancer::weightOf(const WorkerState& s, int index) const {
  const int w = targets_[static_cast<std::size_t>(index)].weight;
  if (w <= 0) return 0;  // weight 0 disables the target, whatever its name resolves to
  const auto i = static_cast<std::size_t>(index);
  if (i < s.entries_.size() && s.entries_[i].addressWeight > 0) return s.entries_[i].addressWeight;
  return w;
}

int UpstreamBalancer::pickAddress(
    WorkerState& state, int index,
    const std::shared_ptr<const std::vector<net::DnsAddress>>& addresses) const {
  const auto& list = *addresses;
  WorkerState::Entry* e = entryFor(state, index);
  if (!e) return 0;  // a target of an older snapshot no longer configured
  const int targetWeight = targets_[static_cast<std::size_t>(index)].weight;
  if (e->addresses != addresses) {
    e->addresses = addresses;
    bindAddresses(*e, index, true);
  } else if (e->addressGeneration !=
             health_[static_cast<std::size_t>(index)]->addressGeneration()) {
    bindAddresses(*e, index, false);
  }
  auto up = [&](std::size_t k) {
    return !checksOn_ || k >= e->addressHealth.size() || e->addressHealth[k]->healthy();
  };
  if (list.size() <= 1) return up(0) ? 0 : -1;
  if (algorithm_ == Algorithm::consistentHashing && e->addressWeight > 0) {
    // The key that chose the target chooses among its healthy addresses, in proportion to
    // their weights.
    std::int64_t healthy = 0;
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (up(k)) healthy += addressWeight(list[k], targetWeight);
    }
    if (healthy <= 0) return -1;
    auto point = static_cast<std::int64_t>(state.lastHash_ % static_cast<std::uint64_t>(healthy));
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (!up(k)) continue;
      point -= addressWeight(list[k], targetWeight);
      if (point < 0) return static_cast<int>(k);
    }
    return -1;
  }
  int best = -1;
  std::int64_t total = 0;
  for (std::size_t k = 0; k < list.size(); ++k) {
    if (!up(k)) continue;
    const std::int64_t w = addressWeight(list[k], targetWeight);
    e->addressCurrent[k] += w;
    total += w;
    if (best < 0 || e->addressCurrent[k] > e->addressCurrent[static_cast<std::size_t>(best)])
      best = static_cast<int>(k);
  }
  if (best >= 0) e->addressCurrent[static_cast<std::size_t>(best)] -= total;
  return best;
}

// The addresses' smooth round-robin restarts, their weights are summed again and their health
// is looked up (registering a new answer with the HealthState).
void UpstreamBalancer::bindAddresses(WorkerState::Entry& e, int index, bool replace) const {
  if (!e.addresses) return;
  const auto& t = targets_[static_cast<std::size_t>(index)];
  e.addressCurrent.assign(e.addresses->size(), 0);
  e.addressWeight = 0;
  for (const auto& a : *e.addresses) e.addressWeight += addressWeight(a, t.weight);
  e.addressHealth.clear();
  if (!t.address.isIp && !e.addresses->empty())
    e.addressHealth = healthState_->resolved(t.key, *e.addresses, replace, &e.addressGeneration);
  if (e.addressHealth.size() != e.addresses->size()) {  // not in this HealthState: detached
    e.addressHealth.clear();
    e.addressGeneration = health_[static_cast<std::size_t>(index)]->addressGeneration();
    for (std::size_t k = 0; k < e.addresses->size(); ++k)
      e.addressHealth.push_back(std::make_shared<TargetHealth>(upstreamId_, t.key, nullptr));
  }
}

std::shared_ptr<TargetHealth> UpstreamBalancer::addressHealth(WorkerState& state, int index,
                                                              int address) const {
  const WorkerState::Entry* e = entryFor(state, index);
  if (!e || address < 0 || static_cast<std::size_t>(address) >= e->addressHealth.size())
    return nullptr;
  return e->addressHealth[static_cast<std::size_t>(address)];
}

void UpstreamBalancer::onStart(WorkerState& state, int index) const {
  if (auto* e = entryFor(state, index)) ++e->active;
}

void UpstreamBalancer::onFinish(WorkerState& state, int index) const {
  if (auto* e = entryFor(state, index); e && e->active > 0) --e->active;
}

void UpstreamBalancer::recordLatency(WorkerState& state, int index,
                                     std::chrono::microseconds rtt) const {
  auto* e = entryFor(state, index);
  if (!e) return;
  const auto now = clock_->now();
  const double sample = static_cast<double>(rtt.count());
  if (!e->sampled) {
    e->ewmaUs = sample;
    e->sampled = true;
  } else {
    double td = std::chrono::duration<double>(now - e->touched).count();
    const double w = std::exp(-(td > 0 ? td : 0) / kDecaySeconds);
    e->ewmaUs = e->ewmaUs * w + sample * (1.0 - w);
  }
  e->touched = now;
}

void UpstreamBalancer::report(int index, const Outcome& outcome, TargetHealth* address) const {
  if (!checksOn_ || index < 0 || index >= size()) return;
  (address ? *address : *health_[static_cast<std::size_t>(index)]).report(passive_, outcome);
}

}  // namespace archway::balancer
