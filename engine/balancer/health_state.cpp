#include "balancer/health_state.h"

#include <algorithm>
#include <unordered_map>

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
                           std::shared_ptr<const HealthListener> listener)
    : upstreamId_(std::move(upstreamId)), key_(std::move(key)), listener_(std::move(listener)) {}

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
      return flipped;
    }
  }
}

void TargetHealth::set(bool healthy) {
  auto old = word_.exchange(pack(healthy ? State::healthy : State::unhealthy, 0),
                            std::memory_order_acq_rel);
  if (healthyState(stateOf(old)) != healthy) notify(healthy);
}

void TargetHealth::notify(bool healthy) const {
  if (listener_ && *listener_) (*listener_)(upstreamId_, key_, healthy);
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
      entry.health = it->second.health;
    } else if (auto dup = next.find(key); dup != next.end()) {
      entry.health = dup->second.health;  // duplicate entry: the last one configured wins
    } else {
      entry.health = std::make_shared<TargetHealth>(upstreamId_, key, listener_);
    }
    entry.key = key;
    entry.address = std::move(*addr);
    entry.weight = t->weight;
    next[key] = std::move(entry);
  }
  targets_ = std::move(next);
  // Turning checks off discards what they learned, as Kong clears its checker: turning them on
  // again starts from healthy.
  if (wasUsing && !nowUsing) {
    for (auto& [key, t] : targets_) reset.push_back(t.health);
  }
}

std::shared_ptr<TargetHealth> HealthState::find(std::string_view target) const {
  std::lock_guard lock(mutex_);
  auto it = targets_.find(target);
  if (it == targets_.end()) {
    // Accept "host" for "host:8000" and other spellings of the same address.
    auto addr = parseTargetAddress(target);
    if (!addr) return nullptr;
    it = targets_.find(addr->text());
    if (it == targets_.end()) return nullptr;
  }
  return it->second.health;
}

std::vector<HealthTarget> HealthState::targets() const {
  std::lock_guard lock(mutex_);
  std::vector<HealthTarget> out;
  out.reserve(targets_.size());
  for (const auto& [key, t] : targets_) out.push_back(t);
  return out;
}

std::optional<TargetStatus> HealthState::status(std::string_view target) const {
  auto h = find(target);
  if (!h) return std::nullopt;
  if (h->dnsError()) return TargetStatus::dnsError;
  if (!usingHealthchecks()) return TargetStatus::healthchecksOff;
  return h->healthy() ? TargetStatus::healthy : TargetStatus::unhealthy;
}

core::Status HealthState::setHealthy(std::string_view target, bool healthy) {
  if (!usingHealthchecks()) {
    return core::Error{"", "no healthchecker found for " + upstreamName()};
  }
  auto h = find(target);
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
