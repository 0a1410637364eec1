#include "balancer/health_state.h"

#include <algorithm>
#include <future>
#include <unordered_map>

#include "net/dns_resolver.h"

namespace archway::balancer {

namespace {

constexpr int kSuccessShift = 0;
constexpr int kHttpShift = 8;
constexpr int kTcpShift = 16;
constexpr int kTimeoutShift = 24;
constexpr std::uint32_t kSuccessMask = 0x000000ffu;
constexpr std::uint32_t kFailureMask = 0xffffff00u;

void fill(std::bitset<1000>& bits, const std::vector<int>& statuses) {
  for (int s : statuses) {
    if (s > 0 && s < 1000) bits.set(static_cast<std::size_t>(s));
  }
}

bool healthyState(TargetHealth::State s) {
  return s == TargetHealth::State::healthy || s == TargetHealth::State::mostlyHealthy;
}

std::uint64_t pack(TargetHealth::State s, std::uint32_t counters) {
  return (static_cast<std::uint64_t>(s) << 32) | counters;
}

}  // namespace

namespace {

// Active and passive checks name their thresholds alike; only the record type differs.
template <class Check>
CheckRules rulesOf(const Check& c) {
  CheckRules r;
  fill(r.healthyStatuses, c.healthyHttpStatuses);
  fill(r.unhealthyStatuses, c.unhealthyHttpStatuses);
  r.successes = c.healthySuccesses;
  r.httpFailures = c.unhealthyHttpFailures;
  r.tcpFailures = c.unhealthyTcpFailures;
  r.timeouts = c.unhealthyTimeouts;
  return r;
}

}  // namespace

CheckRules CheckRules::passive(const core::HealthcheckPassive& c) {
  return rulesOf(c);
}
CheckRules CheckRules::active(const core::HealthcheckActive& c) {
  return rulesOf(c);
}

bool usesHealthchecks(const core::Healthchecks& c) {
  return c.active.healthyInterval != 0 || c.active.unhealthyInterval != 0 ||
         c.passive.unhealthyTcpFailures != 0 || c.passive.unhealthyTimeouts != 0 ||
         c.passive.unhealthyHttpFailures != 0;
}

std::string_view toString(TargetStatus s) {
  switch (s) {
    case TargetStatus::healthy:
      return "HEALTHY";
    case TargetStatus::unhealthy:
      return "UNHEALTHY";
    case TargetStatus::healthchecksOff:
      return "HEALTHCHECKS_OFF";
    case TargetStatus::dnsError:
      return "DNS_ERROR";
  }
  return "HEALTHCHECKS_OFF";
}

// ---------------------------------------------------------------------------------------------

TargetHealth::TargetHealth(std::string upstreamId, std::string key,
                           std::shared_ptr<const HealthListener> listener,
                           std::shared_ptr<TargetHealth> parent)
    : upstreamId_(std::move(upstreamId)),
      key_(std::move(key)),
      listener_(std::move(listener)),
      parent_(std::move(parent)) {}

void TargetHealth::follow(bool healthy) noexcept {
  auto w = word_.load(std::memory_order_relaxed);
  if (healthyState(stateOf(w)) == healthy) return;
  word_.compare_exchange_strong(w, pack(healthy ? State::healthy : State::unhealthy, 0),
                                std::memory_order_acq_rel);
}

TargetHealth::Counters TargetHealth::counters() const noexcept {
  auto w = word_.load(std::memory_order_relaxed);
  auto at = [w](int shift) { return static_cast<int>((w >> shift) & 0xff); };
  return {at(kSuccessShift), at(kHttpShift), at(kTcpShift), at(kTimeoutShift)};
}

bool TargetHealth::report(const CheckRules& rules, const Outcome& outcome) {
  switch (outcome.kind) {
    case Outcome::Kind::success:
      return apply(true, kSuccessShift, rules.successes);
    case Outcome::Kind::tcpFailure:
      return apply(false, kTcpShift, rules.tcpFailures);
    case Outcome::Kind::timeout:
      return apply(false, kTimeoutShift, rules.timeouts);
    case Outcome::Kind::httpStatus:
      break;
  }
  int s = outcome.httpStatus;
  bool inRange = s > 0 && s < 1000;
  if (inRange && rules.healthyStatuses.test(static_cast<std::size_t>(s))) {
    return apply(true, kSuccessShift, rules.successes);
  }
  if (s == 0 || (inRange && rules.unhealthyStatuses.test(static_cast<std::size_t>(s)))) {
    return apply(false, kHttpShift, rules.httpFailures);
  }
  return false;  // in neither list: ignored (Kong)
}

bool TargetHealth::apply(bool towardsHealthy, int shift, int limit) {
  if (limit <= 0) return false;  // disabled by configuration: not even counted
  const State target = towardsHealthy ? State::healthy : State::unhealthy;
  auto old = word_.load(std::memory_order_acquire);
  for (;;) {
    const State cur = stateOf(old);
    // A fully healthy target does not count successes, a fully unhealthy one not failures.
    if (cur == target) return false;
    auto counters = static_cast<std::uint32_t>(old);
    std::uint32_t ctr = std::min<std::uint32_t>(255, ((counters >> shift) & 0xff) + 1);
    counters = (counters & ~(0xffu << shift)) | (ctr << shift);
    counters &= towardsHealthy ? kSuccessMask : kFailureMask;
    State next = cur;
    if (ctr >= static_cast<std::uint32_t>(limit)) {
      next = target;
      counters = 0;
    } else if (cur == State::healthy && (counters & kFailureMask) != 0) {
      next = State::mostlyHealthy;
    } else if (cur == State::unhealthy && (counters & kSuccessMask) != 0) {
      next = State::mostlyUnhealthy;
    }
    if (word_.compare_exchange_weak(old, pack(next, counters), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      bool flipped = healthyState(cur) != healthyState(next);
      if (flipped) notify(healthyState(next));
      // One healthy address makes its target healthy; the other way round is settled when the
      // name is resolved again (HealthState::resolved), as only then all addresses are known.
      if (flipped && healthyState(next) && parent_) parent_->follow(true);
      return flipped;
    }
  }
}

void TargetHealth::set(bool healthy) {
  auto old = word_.exchange(pack(healthy ? State::healthy : State::unhealthy, 0),
                            std::memory_order_acq_rel);
  if (healthyState(stateOf(old)) != healthy) notify(healthy);
  if (healthy && parent_) parent_->follow(true);
}

void TargetHealth::notify(bool healthy) const {
  if (listener_ && *listener_) (*listener_)(upstreamId_, key_, healthy);
}

// ---------------------------------------------------------------------------------------------

std::string ResolvedAddress::text() const {
  std::string out = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
  return out + ":" + std::to_string(port);
}

int addressWeight(const net::DnsAddress& a, int targetWeight) {
  if (a.port != 0) return std::max<int>(1, a.weight);
  return targetWeight;
}

// ---------------------------------------------------------------------------------------------

HealthState::HealthState(std::string upstreamId, std::shared_ptr<const HealthListener> listener)
    : upstreamId_(std::move(upstreamId)), listener_(std::move(listener)) {}

std::string HealthState::upstreamName() const {
  std::lock_guard lock(mutex_);
  return name_;
}

std::optional<std::string> HealthState::hostHeader() const {
  std::lock_guard lock(mutex_);
  return hostHeader_;
}

core::Healthchecks HealthState::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void HealthState::sync(const core::Upstream& upstream,
                       std::span<const core::Target* const> targets) {
  std::vector<std::shared_ptr<TargetHealth>> reset;
  {
    std::lock_guard lock(mutex_);
    syncLocked(upstream, targets, reset);
  }
  // Outside the lock: set() calls the listener, which may read this state.
  for (auto& h : reset) h->set(true);
}

void HealthState::syncLocked(const core::Upstream& upstream,
                             std::span<const core::Target* const> targets,
                             std::vector<std::shared_ptr<TargetHealth>>& reset) {
  name_ = upstream.name;
  hostHeader_ = upstream.hostHeader;
  config_ = upstream.healthchecks;
  passive_ = CheckRules::passive(upstream.healthchecks.passive);
  bool nowUsing = usesHealthchecks(upstream.healthchecks);
  bool wasUsing = using_.exchange(nowUsing, std::memory_order_relaxed);

  std::map<std::string, HealthTarget, std::less<>> next;
  for (const core::Target* t : targets) {
    auto addr = parseTargetAddress(t->target);
    if (!addr) continue;  // schema validation rejects these; never fatal here
    std::string key = addr->text();
    HealthTarget entry;
    if (auto it = targets_.find(key); it != targets_.end()) {
      entry = std::move(it->second);
      targets_.erase(it);
    } else if (auto dup = next.find(key); dup != next.end()) {
      entry = std::move(dup->second);  // duplicate entry: the last one configured wins
    } else {
      entry.health = std::make_shared<TargetHealth>(upstreamId_, key, listener_);
    }
    entry.key = key;
    entry.address = std::move(*addr);
    entry.weight = t->weight;
    for (auto& a : entry.addresses) {
      if (!a.srv) a.weight = entry.weight;  // an A answer weighs what its target does
    }
    next[key] = std::move(entry);
  }
  targets_ = std::move(next);
  // Turning checks off discards what they learned, as Kong clears its checker: turning them on
  // again starts from healthy.
  if (wasUsing && !nowUsing) {
    for (auto& [key, t] : targets_) {
      reset.push_back(t.health);
      for (const auto& a : t.addresses) reset.push_back(a.health);
    }
  }
}

namespace {

// Accepts "host" for "host:8000" and other spellings of the same address.
template <class Map>
auto* findTarget(Map& targets, std::string_view target) {
  auto it = targets.find(target);
  if (it == targets.end()) {
    auto addr = parseTargetAddress(target);
    if (addr) it = targets.find(addr->text());
  }
  return it == targets.end() ? nullptr : &it->second;
}

}  // namespace

const HealthTarget* HealthState::findLocked(std::string_view target) const {
  return findTarget(targets_, target);
}

HealthTarget* HealthState::findLocked(std::string_view target) {
  return findTarget(targets_, target);
}

std::shared_ptr<TargetHealth> HealthState::find(std::string_view target) const {
  std::lock_guard lock(mutex_);
  const HealthTarget* t = findLocked(target);
  return t ? t->health : nullptr;
}

std::optional<HealthTarget> HealthState::target(std::string_view target) const {
  std::lock_guard lock(mutex_);
  const HealthTarget* t = findLocked(target);
  if (!t) return std::nullopt;
  return *t;
}

std::vector<HealthTarget> HealthState::targets() const {
  std::lock_guard lock(mutex_);
  std::vector<HealthTarget> out;
  out.reserve(targets_.size());
  for (const auto& [key, t] : targets_) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<TargetHealth>> HealthState::resolved(
    std::string_view target, const std::vector<net::DnsAddress>& answer, bool replace,
    std::uint32_t* generation) {
  std::vector<std::shared_ptr<TargetHealth>> out;
  std::lock_guard lock(mutex_);
  HealthTarget* t = findLocked(target);
  if (!t) return out;
  std::vector<ResolvedAddress> next;
  out.reserve(answer.size());
  for (const auto& a : answer) {
    ResolvedAddress r{a.ip, a.port ? a.port : t->address.port, addressWeight(a, t->weight),
                      a.port != 0, nullptr};
    auto same = [&](const ResolvedAddress& x) { return x.ip == r.ip && x.port == r.port; };
    if (auto it = std::find_if(next.begin(), next.end(), same); it != next.end()) {
      out.push_back(it->health);  // listed twice: one address
      continue;
    }
    if (auto it = std::find_if(t->addresses.begin(), t->addresses.end(), same);
        it != t->addresses.end()) {
      r.health = it->health;
    } else {
      r.health = std::make_shared<TargetHealth>(upstreamId_, t->key + " address " + r.text(),
                                                listener_, t->health);
    }
    out.push_back(r.health);
    next.push_back(std::move(r));
  }
  if (!replace) {
    for (auto& old : t->addresses) {
      auto same = [&](const ResolvedAddress& x) { return x.ip == old.ip && x.port == old.port; };
      if (std::none_of(next.begin(), next.end(), same)) next.push_back(std::move(old));
    }
  }
  auto sameSet = [](const std::vector<ResolvedAddress>& a, const std::vector<ResolvedAddress>& b) {
    return a.size() == b.size() &&
           std::is_permutation(a.begin(), a.end(), b.begin(),
                               [](const auto& x, const auto& y) { return x.health == y.health; });
  };
  if (!sameSet(t->addresses, next)) t->health->generation_.fetch_add(1, std::memory_order_acq_rel);
  t->addresses = std::move(next);
  t->resolved = true;
  t->health->setDnsError(false);
  t->health->follow(std::any_of(t->addresses.begin(), t->addresses.end(),
                                [](const auto& a) { return a.health->healthy(); }));
  if (generation) *generation = t->health->addressGeneration();
  return out;
}

bool HealthState::needsResolving(std::string_view target) const {
  std::lock_guard lock(mutex_);
  const HealthTarget* t = findLocked(target);
  return t && !t->address.isIp && !t->resolved;
}

std::optional<TargetStatus> HealthState::status(std::string_view target) const {
  std::lock_guard lock(mutex_);
  const HealthTarget* t = findLocked(target);
  if (!t) return std::nullopt;
  if (t->health->dnsError() || (t->resolved && t->addresses.empty())) return TargetStatus::dnsError;
  if (!using_.load(std::memory_order_relaxed)) return TargetStatus::healthchecksOff;
  if (!t->resolved) return t->health->healthy() ? TargetStatus::healthy : TargetStatus::unhealthy;
  for (const auto& a : t->addresses) {
    if (a.health->healthy()) return TargetStatus::healthy;
  }
  return TargetStatus::unhealthy;
}

TargetWeights HealthState::weights(std::string_view target) const {
  std::lock_guard lock(mutex_);
  TargetWeights w;
  const HealthTarget* t = findLocked(target);
  if (!t || t->weight <= 0 || t->health->dnsError()) return w;
  const bool checks = using_.load(std::memory_order_relaxed);
  if (!t->resolved) {
    w.total = t->weight;
    w.available = !checks || t->health->healthy() ? w.total : 0;
    return w;
  }
  for (const auto& a : t->addresses) {
    w.total += a.weight;
    if (!checks || a.health->healthy()) w.available += a.weight;
  }
  return w;
}

core::Status HealthState::setHealthy(std::string_view target, bool healthy) {
  if (!usingHealthchecks()) {
    return core::Error{"", "no healthchecker found for " + upstreamName()};
  }
  if (!force(target, healthy)) return core::Error{"", "target not found"};
  return core::Ok{};
}

bool HealthState::force(std::string_view target, bool healthy) {
  std::vector<std::shared_ptr<TargetHealth>> all;
  {
    std::lock_guard lock(mutex_);
    const HealthTarget* t = findLocked(target);
    if (!t) return false;
    all.push_back(t->health);
    for (const auto& a : t->addresses) all.push_back(a.health);
  }
  for (auto& h : all) h->set(healthy);  // outside the lock: set() calls the listener
  return true;
}

core::Status HealthState::setAddressHealthy(std::string_view target, std::string_view address,
                                            bool healthy) {
  if (!usingHealthchecks()) {
    return core::Error{"", "no healthchecker found for " + upstreamName()};
  }
  std::shared_ptr<TargetHealth> h;
  {
    std::lock_guard lock(mutex_);
    const HealthTarget* t = findLocked(target);
    if (!t) return core::Error{"", "target not found"};
    auto addr = parseTargetAddress(address);
    if (!addr || !addr->isIp) return core::Error{"", "invalid address " + std::string(address)};
    const bool hasPort = address.find(']') != std::string_view::npos
                             ? address.find("]:") != std::string_view::npos
                             : std::count(address.begin(), address.end(), ':') == 1;
    const std::uint16_t port = hasPort ? addr->port : t->address.port;
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(addr->host, ec);
    if (t->address.isIp) {
      if (!ec && ip == boost::asio::ip::make_address(t->address.host, ec) &&
          port == t->address.port)
        h = t->health;
    } else {
      for (const auto& a : t->addresses) {
        if (a.ip == ip && a.port == port) h = a.health;
      }
    }
  }
  if (!h) return core::Error{"", "target not found"};
  h->set(healthy);
  return core::Ok{};
}

void HealthState::setDnsError(std::string_view target, bool error) {
  if (auto h = find(target)) h->setDnsError(error);
}

void HealthState::report(std::string_view target, const Outcome& outcome) {
  std::shared_ptr<TargetHealth> h;
  CheckRules rules;
  {
    std::lock_guard lock(mutex_);
    if (!using_.load(std::memory_order_relaxed)) return;
    auto it = targets_.find(target);
    if (it == targets_.end()) return;
    h = it->second.health;
    rules = passive_;
  }
  h->report(rules, outcome);
}

Resolution resolveIfNeeded(HealthState& state, std::string_view target,
                           net::DnsResolver& resolver) {
  if (!state.needsResolving(target)) return Resolution::known;
  auto addr = parseTargetAddress(target);
  if (!addr) return Resolution::unresolvable;
  // The answer may come after the wait: the promise outlives it, and a late answer is dropped
  // (the next call, a probe or a worker records one).
  auto answered = std::make_shared<std::promise<net::DnsAnswer>>();
  auto future = answered->get_future();
  resolver.submit(addr->host, net::DnsType::last,
                  [answered](net::DnsAnswer a) { answered->set_value(std::move(a)); });
  if (future.wait_for(kAdminResolveWait) != std::future_status::ready) return Resolution::pending;
  const auto answer = future.get();
  if (answer.status != net::DnsStatus::ok || answer.addresses.empty())
    return Resolution::unresolvable;
  state.resolved(target, answer.addresses, true);
  return Resolution::known;
}

std::optional<TargetDescription> describe(HealthState& state, std::string_view target,
                                          net::DnsResolver* resolver) {
  const bool resolves =
      !resolver || resolveIfNeeded(state, target, *resolver) != Resolution::unresolvable;
  auto t = state.target(target);
  auto status = state.status(target);
  if (!t || !status) return std::nullopt;
  TargetDescription out;
  if (!resolves) {
    out.status = TargetStatus::dnsError;
    return out;
  }
  out.status = *status;
  out.weights = state.weights(target);
  const bool checks = state.usingHealthchecks();
  if (t->address.isIp) {
    out.addresses.push_back({t->address.host, t->address.port, *status, t->weight});
  } else if (*status != TargetStatus::dnsError) {
    for (const auto& a : t->addresses) {
      const auto s = !checks               ? TargetStatus::healthchecksOff
                     : a.health->healthy() ? TargetStatus::healthy
                                           : TargetStatus::unhealthy;
      out.addresses.push_back({a.ip.to_string(), a.port, s, a.weight});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

HealthRegistry::HealthRegistry(HealthListener listener)
    : listener_(std::make_shared<const HealthListener>(std::move(listener))) {}

void HealthRegistry::sync(const core::Config& config) {
  std::unordered_map<std::string, std::vector<const core::Target*>> byUpstream;
  for (const auto& t : config.targets) byUpstream[t.upstreamId].push_back(&t);
  std::map<std::string, std::shared_ptr<HealthState>, std::less<>> next;
  for (const auto& u : config.upstreams) {
    std::shared_ptr<HealthState> state;
    {
      std::lock_guard lock(mutex_);
      auto it = states_.find(u.id);
      state = it != states_.end() ? it->second : std::make_shared<HealthState>(u.id, listener_);
    }
    state->sync(u, byUpstream[u.id]);
    next[u.id] = std::move(state);
  }
  std::lock_guard lock(mutex_);
  states_ = std::move(next);
}

std::shared_ptr<HealthState> HealthRegistry::sync(const core::Upstream& upstream,
                                                  std::span<const core::Target* const> targets) {
  std::shared_ptr<HealthState> state;
  {
    std::lock_guard lock(mutex_);
    auto& slot = states_[upstream.id];
    if (!slot) slot = std::make_shared<HealthState>(upstream.id, listener_);
    state = slot;
  }
  state->sync(upstream, targets);
  return state;
}

std::shared_ptr<HealthState> HealthRegistry::find(std::string_view upstreamId) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(upstreamId);
  return it == states_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<HealthState>> HealthRegistry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<HealthState>> out;
  for (const auto& [id, s] : states_) out.push_back(s);
  return out;
}

std::vector<const core::Target*> targetsOf(const core::Config& config,
                                           const std::string& upstreamId) {
  std::vector<const core::Target*> out;
  for (const auto& t : config.targets) {
    if (t.upstreamId == upstreamId) out.push_back(&t);
  }
  return out;
}

}  // namespace archway::balancer
