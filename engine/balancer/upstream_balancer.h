#pragma once
// The load balancer of one Upstream: an immutable object built on the control thread from the
// upstream and its targets, shared (shared_ptr<const>) by every worker. pick() takes no lock and
// does not allocate (except once per worker after a config change, when its WorkerState
// rebinds): what changes per request (round-robin weights, active connections, latency averages)
// lives in a WorkerState that each worker owns, one per upstream.
//
// Kong semantics (kong-reference §1.3/§1.4): weight 0 gets no traffic; unhealthy targets are
// skipped while health checks are configured; when the healthy share of the weight is not above
// healthchecks.threshold percent (Kong's `available * 100 / total > threshold`), or no target is
// usable, pick() returns -1 and the proxy answers 503 kNoPeerMessage.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/clock.h"
#include "balancer/health_state.h"
#include "balancer/target_address.h"
#include "core/entities.h"
#include "core/result.h"

namespace archway::net {
struct DnsAddress;
}  // namespace archway::net

namespace archway::balancer {

enum class Algorithm { roundRobin, leastConnections, consistentHashing, latency };
std::optional<Algorithm> parseAlgorithm(std::string_view kongName);

enum class HashOn { none, consumer, ip, header, cookie, path, queryArg, uriCapture };
std::optional<HashOn> parseHashOn(std::string_view kongName);

// The request values consistent hashing may use; only the configured sources are read. Every
// view must stay valid for the duration of pick(). The callbacks return an empty view when the
// value is absent (several header or query values: the caller joins them, as Kong concatenates).
struct HashInput {
  std::string_view consumer;  // authenticated consumer id (Kong: else the credential id)
  std::string_view ip;        // client address (Kong: the forwarded ip)
  std::string_view path;      // normalized request path, no query string
  const void* context = nullptr;
  std::string_view (*header)(const void* context, std::string_view name) = nullptr;
  // hash_on=cookie: when the request has no such cookie, the caller makes up a value (a UUID),
  // returns it here and adds `Set-Cookie: <cookieName()>=<value>; Path=<cookiePath()>` to the
  // response, as Kong does.
  std::string_view (*cookie)(const void* context, std::string_view name) = nullptr;
  std::string_view (*queryArg)(const void* context, std::string_view name) = nullptr;
  // hash_on=uri_capture: the named capture of the route's regex path (Kong: hash_on_uri_capture
  // names a `(?P<name>...)` group); empty when the route matched without a regex, the regex has
  // no such group or the group took no part in the match (then hash_fallback applies).
  std::string_view (*uriCapture)(const void* context, std::string_view name) = nullptr;
};

class UpstreamBalancer;

struct BalancerOptions {
  const Clock* clock = nullptr;  // nullptr: steadyClock(); must outlive the balancer
};

// Per-worker, per-upstream mutable balancing state. Owned by one worker thread, never shared.
// It may be handed balancers of successive snapshots of the same upstream: it rebinds by target
// key on the first pick() against a new balancer, so connection counts and latency averages
// survive a config reload, and finish/latency reports from requests still running on an older
// snapshot land on the right target.
class WorkerState {
 public:
  WorkerState() = default;

  // Layout owned by UpstreamBalancer (public only so its helpers can name it).
  struct Entry {
    std::int64_t current = 0;  // smooth weighted round-robin
    int active = 0;            // connections in use
    bool sampled = false;      // latency: has a sample
    double ewmaUs = 0;
    Clock::TimePoint touched{};
    // A hostname target: its addresses as this worker last resolved them, their health (shared
    // with every worker through the HealthState), the smooth weighted round-robin over them, and
    // their summed weight (0: not resolved yet). See pickAddress().
    std::shared_ptr<const std::vector<net::DnsAddress>> addresses;
    std::vector<std::shared_ptr<TargetHealth>> addressHealth;
    std::uint32_t addressGeneration = 0;  // of the target's address set when mapped
    std::vector<std::int64_t> addressCurrent;
    std::int64_t addressWeight = 0;
  };

 private:
  friend class UpstreamBalancer;
  std::uint64_t boundTo_ = 0;  // UpstreamBalancer::instance_
  std::shared_ptr<const std::vector<std::string>> keys_;
  std::vector<Entry> entries_;
  std::uint64_t cursor_ = 0;
  std::uint64_t lastHash_ = 0;  // consistent hashing: the key of the last pick
};

class UpstreamBalancer {
 public:
  static constexpr std::string_view kNoPeerMessage = "failure to get a peer from the ring-balancer";

  struct Target {
    std::string key;  // "host:port"
    TargetAddress address;
    int weight = 100;
  };
  // Balancer-level health for `GET /upstreams/{u}/health?balancer_health=1`.
  struct Health {
    bool healthy = false;
    long long total = 0, available = 0, unavailable = 0;  // weights
  };

  // Control thread. `health` comes from HealthRegistry::find(upstream.id) after the registry was
  // synced with the same config; nullptr gives the balancer a private state (tests, one-offs).
  // Errors name the field (algorithm, hash_on, hash_fallback).
  static core::Result<std::shared_ptr<const UpstreamBalancer>> build(
      const core::Upstream& upstream, std::span<const core::Target* const> targets,
      std::shared_ptr<HealthState> health, BalancerOptions options = {});

  const std::string& upstreamId() const { return upstreamId_; }
  const std::string& upstreamName() const { return upstreamName_; }
  Algorithm algorithm() const { return algorithm_; }
  int size() const { return static_cast<int>(targets_.size()); }
  const Target& target(int index) const { return targets_[static_cast<std::size_t>(index)]; }
  const std::optional<std::string>& hostHeader() const { return hostHeader_; }
  const std::string& cookieName() const { return cookieName_; }
  const std::string& cookiePath() const { return cookiePath_; }
  const std::shared_ptr<HealthState>& healthState() const { return healthState_; }
  // Whether pick() may read HashInput::uriCapture (hash_on or hash_fallback uri_capture), so
  // the proxy extracts the route's regex captures only then.
  bool hashesOnUriCapture() const {
    return algorithm_ == Algorithm::consistentHashing &&
           (hashOn_ == HashOn::uriCapture || hashFallback_ == HashOn::uriCapture);
  }

  // Worker thread. A target index, or -1 (answer 503 kNoPeerMessage). On a retry pass the
  // indexes already tried: another usable target is chosen when there is one, else a tried one.
  int pick(WorkerState& state, const HashInput& input,
           std::span<const int> alreadyTried = {}) const;

  // Worker thread, after pick() chose target `index` whose host is a name: Kong makes each
  // address the name resolves to an entry of the balancer, weighted by its SRV record (weight 0
  // counts as 1; the record's port replaces the target's) or, for A/AAAA answers, by the
  // target's weight. `addresses` is what the worker's DNS cache holds for the name (not
  // empty); returns the index of the one that carries this try: with consistent hashing the
  // request's key chooses, otherwise smooth weighted round-robin. Until the next answer, the
  // target counts in pick() with the sum of those weights (its healthy share: the sum over its
  // healthy addresses). Unhealthy addresses are skipped while health checks are configured; -1
  // when none is left (pick again: pick() now skips the target). A new answer is registered
  // with the HealthState once per worker (that takes its mutex; requests in between do not).
  int pickAddress(WorkerState& state, int index,
                  const std::shared_ptr<const std::vector<net::DnsAddress>>& addresses) const;
  // The health of address `address` (an index pickAddress() returned) of target `index`, for
  // report(); null when there is none (an IP target).
  std::shared_ptr<TargetHealth> addressHealth(WorkerState& state, int index, int address) const;

  // Worker thread: the connection to target `index` starts carrying the request / is done with
  // it (every pick that is used must be finished exactly once). Drives least-connections.
  void onStart(WorkerState& state, int index) const;
  void onFinish(WorkerState& state, int index) const;
  // Worker thread: connect time + response time of a completed try. Drives latency.
  void recordLatency(WorkerState& state, int index, std::chrono::microseconds rtt) const;

  // Any thread: passive health check report for a try on target `index`, on `address` (from
  // addressHealth()) when the target is a name. No-op when the upstream has no health checks
  // (Kong).
  void report(int index, const Outcome& outcome, TargetHealth* address = nullptr) const;

  // Whether the target may take traffic (weight > 0, no DNS error, healthy; a hostname target:
  // one of its addresses healthy, as the HealthState last saw them).
  bool usable(int index) const;
  Health health() const;

 private:
  UpstreamBalancer() = default;
  void bind(WorkerState& state) const;
  WorkerState::Entry* entryFor(WorkerState& state, int index) const;
  bool admits(long long available, long long total) const;
  std::int64_t weightOf(const WorkerState& s, int index) const;
  std::int64_t availableWeight(const WorkerState& s, int index) const;
  bool usable(const WorkerState& s, int index) const { return availableWeight(s, index) > 0; }
  void bindAddresses(WorkerState::Entry& e, int index, bool replace) const;
  std::string_view hashValue(HashOn on, const std::optional<std::string>& name,
                             const HashInput& in) const;
  int pickRoundRobin(WorkerState& s, std::span<const int> tried, bool allowTried) const;
  int pickLeastConnections(WorkerState& s, std::span<const int> tried, bool allowTried) const;
  int pickLatency(WorkerState& s, std::span<const int> tried, bool allowTried) const;
  int pickHashed(WorkerState& s, const HashInput& in, std::span<const int> tried) const;

  std::uint64_t instance_ = 0;
  std::string upstreamId_, upstreamName_;
  Algorithm algorithm_ = Algorithm::roundRobin;
  HashOn hashOn_ = HashOn::none, hashFallback_ = HashOn::none;
  std::optional<std::string> hashOnName_, hashFallbackName_;  // header/query/capture name
  std::string cookieName_, cookiePath_;
  std::optional<std::string> hostHeader_;
  double threshold_ = 0;
  bool checksOn_ = false;
  CheckRules passive_;
  const Clock* clock_ = nullptr;

  std::vector<Target> targets_;
  std::shared_ptr<const std::vector<std::string>> keys_;
  std::vector<std::shared_ptr<TargetHealth>> health_;
  std::shared_ptr<HealthState> healthState_;
  std::vector<std::uint32_t> slotOwner_;  // consistent hashing: slot -> target index
};

}  // namespace archway::balancer
