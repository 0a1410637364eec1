#pragma once
// Target health shared by every worker and kept across config snapshots.
//
// The state machine follows Kong's lua-resty-healthcheck: four internal states (healthy,
// mostly_healthy, mostly_unhealthy, unhealthy) and four 8-bit counters (success, http, tcp,
// timeout) that active and passive checks share. A failure clears the success counter; a success
// clears the three failure counters; a counter reaching its limit moves the target to healthy or
// unhealthy (and the counters restart from zero). A limit of 0 disables that report entirely, so
// with healthy.successes = 0 (Kong's default) successes do not clear failures and an unhealthy
// target only comes back through active checks or a manual setHealthy().
//
// A hostname target has one TargetHealth per address its name resolves to (Kong checks and
// balances each address of a name on its own); its own TargetHealth then only carries the DNS
// error flag. The target is healthy while one of its addresses is.
//
// Threads: TargetHealth is lock-free (one atomic word) and may be used from any thread; workers
// report passive outcomes through it. HealthState and HealthRegistry take a mutex for structural
// changes (control thread, Admin API, a worker binding a new DNS answer); requests only use the
// TargetHealth objects their worker already holds.
#include <atomic>
#include <bitset>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/target_address.h"
#include "core/entities.h"
#include "core/result.h"

namespace archway::net {
struct DnsAddress;
class DnsResolver;
}  // namespace archway::net

namespace archway::balancer {

// What one proxied try (passive) or one probe (active) produced.
struct Outcome {
  // success: a TCP-only probe connected (active type tcp).
  enum class Kind { httpStatus, tcpFailure, timeout, success };
  Kind kind = Kind::httpStatus;
  int httpStatus = 0;  // Kind::httpStatus; 0 = invalid response (counts as an HTTP failure)

  static Outcome http(int status) { return {Kind::httpStatus, status}; }
  static Outcome success() { return {Kind::success, 0}; }
  static Outcome tcpFailure() { return {Kind::tcpFailure, 0}; }
  static Outcome timeout() { return {Kind::timeout, 0}; }
};

// One check family's thresholds (active or passive), compiled from the config for O(1) lookups.
struct CheckRules {
  std::bitset<1000> healthyStatuses;
  std::bitset<1000> unhealthyStatuses;
  int successes = 0;  // 0 disables each of these
  int httpFailures = 0;
  int tcpFailures = 0;
  int timeouts = 0;

  static CheckRules passive(const core::HealthcheckPassive& c);
  static CheckRules active(const core::HealthcheckActive& c);
};

// Kong's usage test: any active interval or passive failure threshold set.
bool usesHealthchecks(const core::Healthchecks& c);

// Admin API status strings (kong-reference #29).
enum class TargetStatus { healthy, unhealthy, healthchecksOff, dnsError };
std::string_view toString(TargetStatus s);

// (upstream id, target "host:port", healthy). Called on the thread whose report caused the
// transition (a worker or the control thread): it must be thread-safe and must not block.
using HealthListener =
    std::function<void(const std::string& upstreamId, const std::string& target, bool healthy)>;

class TargetHealth {
 public:
  enum class State : std::uint8_t {
    healthy = 0,
    unhealthy = 1,
    mostlyHealthy = 2,
    mostlyUnhealthy = 3
  };
  struct Counters {
    int success = 0, http = 0, tcp = 0, timeout = 0;
  };

  // `parent`: for an address of a hostname target, the target's own TargetHealth, which is
  // then kept healthy while one of its addresses is (workers that have not resolved the name
  // yet go by it).
  TargetHealth(std::string upstreamId, std::string key,
               std::shared_ptr<const HealthListener> listener,
               std::shared_ptr<TargetHealth> parent = nullptr);

  const std::string& key() const { return key_; }
  // Request path: one relaxed load. mostly_healthy counts as healthy (Kong).
  bool healthy() const noexcept {
    auto s = stateOf(word_.load(std::memory_order_relaxed));
    return s == State::healthy || s == State::mostlyHealthy;
  }
  State state() const noexcept { return stateOf(word_.load(std::memory_order_relaxed)); }
  Counters counters() const noexcept;

  bool dnsError() const noexcept { return dnsError_.load(std::memory_order_relaxed); }
  void setDnsError(bool e) noexcept { dnsError_.store(e, std::memory_order_relaxed); }
  // A hostname target: counts the changes of its address set (HealthState::resolved), so a
  // worker whose view of the addresses is older maps its answer again.
  std::uint32_t addressGeneration() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  // Runs one report through the state machine; true when it flipped healthy <-> unhealthy (the
  // listener has then been called).
  bool report(const CheckRules& rules, const Outcome& outcome);
  // Forces a state and clears the counters (Kong's set_target_status); the listener is called
  // when the healthy flag changes.
  void set(bool healthy);

 private:
  static State stateOf(std::uint64_t w) noexcept { return static_cast<State>((w >> 32) & 3); }
  bool apply(bool towardsHealthy, int counterShift, int limit);
  void notify(bool healthy) const;
  // A hostname target's own state following its addresses: no counters, no listener.
  void follow(bool healthy) noexcept;

  std::atomic<std::uint64_t> word_{0};  // bits 0-31: counters (8 bits each), 32-33: State
  std::atomic<bool> dnsError_{false};
  std::atomic<std::uint32_t> generation_{0};
  friend class HealthState;
  std::string upstreamId_;
  std::string key_;
  std::shared_ptr<const HealthListener> listener_;
  const std::shared_ptr<TargetHealth> parent_;
};

// One address a hostname target's name resolved to, with its own health.
struct ResolvedAddress {
  boost::asio::ip::address ip;
  std::uint16_t port = 0;  // the SRV record's, else the target's
  int weight = 0;          // the SRV record's (0 counts as 1), else the target's
  bool srv = false;
  std::shared_ptr<TargetHealth> health;

  std::string text() const;  // "ip:port", IPv6 in brackets
};

// Kong's weight of a resolved address: an SRV record's own (0 counts as 1: such a record should
// be hit, rarely), else the target's.
int addressWeight(const net::DnsAddress& a, int targetWeight);

// One target as the health state knows it (config view, refreshed by each sync).
struct HealthTarget {
  std::string key;  // "host:port"
  TargetAddress address;
  int weight = 100;
  std::shared_ptr<TargetHealth> health;
  // A hostname target: the addresses of its name's last answer (see HealthState::resolved),
  // `resolved` once there was one.
  std::vector<ResolvedAddress> addresses;
  bool resolved = false;
};

// A target's weights as Kong's balancer counts them: an IP target's own weight; a hostname
// target's, the sum over its addresses (available: over the healthy ones). A target whose name
// does not resolve weighs nothing.
struct TargetWeights {
  long long total = 0, available = 0;
};

// Health of one upstream's targets. Outlives config snapshots: HealthRegistry::sync keeps the
// TargetHealth of every target whose "host:port" is still configured.
class HealthState {
 public:
  HealthState(std::string upstreamId, std::shared_ptr<const HealthListener> listener);

  const std::string& upstreamId() const { return upstreamId_; }
  std::string upstreamName() const;
  std::optional<std::string> hostHeader() const;  // upstream.host_header
  core::Healthchecks config() const;
  bool usingHealthchecks() const { return using_.load(std::memory_order_relaxed); }

  // Control thread: replaces the config and the target list; new targets start healthy, removed
  // ones are dropped (a balancer still holding one keeps a detached copy alive).
  void sync(const core::Upstream& upstream, std::span<const core::Target* const> targets);

  std::shared_ptr<TargetHealth> find(std::string_view target) const;
  std::optional<HealthTarget> target(std::string_view target) const;
  std::vector<HealthTarget> targets() const;  // sorted by key

  // A hostname target's name resolved to `answer` (a worker's or the active checker's DNS
  // cache; not empty): the health of each of its addresses, in answer order. With `replace` the
  // answer becomes the target's address set: addresses not seen before start healthy, those no
  // longer in it are dropped (a holder keeps a detached copy until it maps its answer again).
  // Without it (a worker mapping an answer it already had) unknown addresses are only added.
  // Clears the target's DNS error; `generation`: the target's addressGeneration() after this.
  // Empty when the target is not configured.
  std::vector<std::shared_ptr<TargetHealth>> resolved(std::string_view target,
                                                      const std::vector<net::DnsAddress>& answer,
                                                      bool replace,
                                                      std::uint32_t* generation = nullptr);
  // Whether a hostname target has been resolved at all (false for IP and unknown targets).
  bool needsResolving(std::string_view target) const;

  // Admin API. nullopt when the target is unknown. A hostname target: DNS_ERROR when its name
  // did not resolve, else HEALTHY while one of its addresses is (Kong).
  std::optional<TargetStatus> status(std::string_view target) const;
  TargetWeights weights(std::string_view target) const;
  // Kong's POST /upstreams/{u}/targets/{t}/healthy|unhealthy. Fails like Kong when the upstream
  // has no health checks ("no healthchecker found for <name>") or the target is unknown.
  core::Status setHealthy(std::string_view target, bool healthy);
  // Sets a target and every address of it, checks or not; false when the target is unknown.
  bool force(std::string_view target, bool healthy);
  // POST .../targets/{t}/{address}/healthy|unhealthy: one address ("ip" or "ip:port"; without a
  // port, the target's) of the target. Fails for an address the target does not resolve to.
  core::Status setAddressHealthy(std::string_view target, std::string_view address, bool healthy);
  void setDnsError(std::string_view target, bool error);
  // Passive report by target key (the balancer's report() is the index-based fast path).
  void report(std::string_view target, const Outcome& outcome);

 private:
  void syncLocked(const core::Upstream& upstream, std::span<const core::Target* const> targets,
                  std::vector<std::shared_ptr<TargetHealth>>& reset);
  // Caller holds mutex_.
  const HealthTarget* findLocked(std::string_view target) const;
  HealthTarget* findLocked(std::string_view target);

  const std::string upstreamId_;
  std::shared_ptr<const HealthListener> listener_;
  std::atomic<bool> using_{false};
  mutable std::mutex mutex_;
  std::string name_;
  std::optional<std::string> hostHeader_;
  core::Healthchecks config_;
  CheckRules passive_;
  std::map<std::string, HealthTarget, std::less<>> targets_;
};

// GET /upstreams/{u}/health: one target and its addresses (an IP target: itself; a hostname
// target: every address of its name's last answer, none when it does not resolve).
struct TargetDescription {
  struct Address {
    std::string ip;
    std::uint16_t port = 0;
    TargetStatus status = TargetStatus::healthchecksOff;
    int weight = 0;
  };
  TargetStatus status = TargetStatus::healthchecksOff;
  TargetWeights weights;
  std::vector<Address> addresses;
};
// Admin API, before describing or setting a hostname target no worker and no probe has
// resolved yet: resolves it on the resolver's threads and registers the answer, waiting at most
// kAdminResolveWait for it (the hosts file answers at once) so a slow DNS server never holds
// the control thread for its timeouts. `pending`: no answer yet (the target is described by
// its own health, without addresses); `unresolvable`: the name does not resolve (not recorded:
// the workers find out themselves).
enum class Resolution { known, pending, unresolvable };
inline constexpr std::chrono::milliseconds kAdminResolveWait{250};
Resolution resolveIfNeeded(HealthState& state, std::string_view target,
                           net::DnsResolver& resolver);
// nullopt when the target is unknown. With a resolver, resolveIfNeeded() first (a name that
// does not resolve is DNS_ERROR).
std::optional<TargetDescription> describe(HealthState& state, std::string_view target,
                                          net::DnsResolver* resolver);

// Every upstream's HealthState, keyed by upstream id. One per engine, owned by the control
// thread; lookups are thread-safe.
class HealthRegistry {
 public:
  explicit HealthRegistry(HealthListener listener = {});

  // Control thread, once per config snapshot, before building balancers: creates, updates and
  // drops states so that they match the config.
  void sync(const core::Config& config);
  // Same for one upstream (targets: those of this upstream).
  std::shared_ptr<HealthState> sync(const core::Upstream& upstream,
                                    std::span<const core::Target* const> targets);

  std::shared_ptr<HealthState> find(std::string_view upstreamId) const;
  std::vector<std::shared_ptr<HealthState>> all() const;

 private:
  std::shared_ptr<const HealthListener> listener_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<HealthState>, std::less<>> states_;
};

// The targets of one upstream in a config, in config order.
std::vector<const core::Target*> targetsOf(const core::Config& config,
                                           const std::string& upstreamId);

}  // namespace archway::balancer
