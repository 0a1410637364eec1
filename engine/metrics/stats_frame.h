#pragma once
// The immutable result of one stats merge (every 250 ms by default). Built by the stats thread
// from the workers' shards and handed to subscribers as shared_ptr<const StatsFrame>.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace archway::metrics {

// Latency percentiles in milliseconds over a window.
struct LatencySummary {
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
  std::uint64_t count = 0;
};

// Kong's Prometheus latency buckets, in milliseconds (kong/plugins/prometheus/exporter.lua).
inline constexpr std::array<double, 26> kKongLatencyBucketsMs = {
    1,  2,  5,   7,   10,  15,  20,  25,   30,   40,   50,    60,    70,
    80, 90, 100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 30000, 60000};

// Cumulative since start: count of samples <= each Kong bucket bound, plus the total count and
// sum (the +Inf bucket is `count`).
struct CumulativeLatency {
  std::array<std::uint64_t, kKongLatencyBucketsMs.size()> buckets{};
  std::uint64_t count = 0;
  double sumMs = 0;
};

struct EntityStats {
  std::string id;
  std::string name;            // entity name, or its id when unnamed
  std::string service;         // routes: their service's name (or id), for labels
  std::string upstream;        // targets: their upstream's name (or id)
  std::uint64_t requests = 0;  // since the engine started
  double rps = 0;              // over the last second
  std::uint64_t status1xx = 0, status2xx = 0, status3xx = 0, status4xx = 0, status5xx = 0;
  std::uint64_t bytesIn = 0, bytesOut = 0;
  LatencySummary latency1s;          // total request latency, last 1 s
  LatencySummary latency10s;         // last 10 s
  LatencySummary latency60s;         // last 60 s
  LatencySummary upstreamLatency1s;  // upstream time, last 1 s
  LatencySummary upstreamLatency10s, upstreamLatency60s;
  LatencySummary gatewayLatency1s;   // the gateway's own time, last 1 s
  LatencySummary gatewayLatency10s, gatewayLatency60s;
  // Since start, for Prometheus: responses by status code, and latency histograms.
  std::vector<std::pair<int, std::uint64_t>> statusCodes;  // sorted by code
  CumulativeLatency requestLatency, upstreamLatency, gatewayLatency;
};

// A frame's entities, read as a sequence of `const EntityStats&`. Each one is held by a shared
// pointer, so an entity whose stats did not change since the previous frame is the previous
// frame's object: with 10,000 idle routes a merge copies 10,000 pointers, not 10,000 records
// of ~1.4 KB.
class EntityList {
  using Items = std::vector<std::shared_ptr<const EntityStats>>;

 public:
  class const_iterator {
   public:
    using iterator_concept = std::random_access_iterator_tag;
    using iterator_category = std::random_access_iterator_tag;
    using value_type = EntityStats;
    using difference_type = std::ptrdiff_t;
    using pointer = const EntityStats*;
    using reference = const EntityStats&;
    const_iterator() = default;
    explicit const_iterator(Items::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    reference operator[](difference_type n) const { return *it_[n]; }
    const_iterator& operator++() { ++it_; return *this; }
    const_iterator operator++(int) { return const_iterator(it_++); }
    const_iterator& operator--() { --it_; return *this; }
    const_iterator operator--(int) { return const_iterator(it_--); }
    const_iterator& operator+=(difference_type n) { it_ += n; return *this; }
    const_iterator& operator-=(difference_type n) { it_ -= n; return *this; }
    friend const_iterator operator+(const_iterator i, difference_type n) { return i += n; }
    friend const_iterator operator+(difference_type n, const_iterator i) { return i += n; }
    friend const_iterator operator-(const_iterator i, difference_type n) { return i -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return a.it_ - b.it_;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) = default;
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) = default;

   private:
    Items::const_iterator it_;
  };
  using value_type = EntityStats;
  using iterator = const_iterator;
  using size_type = std::size_t;

  EntityList() = default;
  EntityList(std::initializer_list<EntityStats> items) {
    for (const auto& e : items) push_back(e);
  }
  EntityList(std::vector<EntityStats> items) {  // NOLINT: implicit, as the vector it replaced
    items_.reserve(items.size());
    for (auto& e : items) push_back(std::move(e));
  }

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const EntityStats& operator[](std::size_t i) const { return *items_[i]; }
  const EntityStats& front() const { return *items_.front(); }
  const EntityStats& back() const { return *items_.back(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }

  void reserve(std::size_t n) { items_.reserve(n); }
  void push_back(EntityStats e) { items_.push_back(std::make_shared<const EntityStats>(std::move(e))); }
  void push_back(std::shared_ptr<const EntityStats> e) { items_.push_back(std::move(e)); }
  // The object at `i`, to tell a shared entity from a copy (tests).
  const std::shared_ptr<const EntityStats>& shared(std::size_t i) const { return items_[i]; }

 private:
  Items items_;
};

// Time one plugin spends per request on one route (all its phases together).
struct PluginStats {
  std::string routeId;
  std::string route;   // route name, or its id
  std::string plugin;  // "key-auth"
  std::uint64_t requests = 0;  // requests it ran on, since start
  double meanUs = 0, p99Us = 0, maxUs = 0;  // over the last 10 s
  double sumUs = 0;                         // since start
};

// Kong's prometheus per_consumer: one route's requests and bytes since start for one consumer
// and status code, summed over the workers.
struct RouteConsumerStats {
  std::size_t route = 0;  // index into StatsFrame::routes
  // Kong's label: the username; "" without a consumer (or without a username); "(other)" for
  // consumers past a worker's consumer shard cap.
  std::string consumer;
  int status = 0;
  std::uint64_t requests = 0, bytesIn = 0, bytesOut = 0;
};

struct StatsFrame {
  std::uint64_t sequence = 0;
  std::int64_t timestampMs = 0;  // wall clock, ms since the epoch
  double intervalS = 0.25;
  EntityStats total;  // every proxied request, matched or not
  EntityList routes;
  EntityList services;
  // Consumers with traffic (named by username, else custom_id, else id), the top
  // StatsMerger::Options::topConsumers by requests since start; `consumersActive` counts all of
  // them. Requests of consumers past the per-worker shard cap are summed in one entry whose id
  // is "(other)".
  EntityList consumers;
  std::uint64_t consumersActive = 0;
  // Upstream targets: name "host:port", `upstream` their upstream's name. Every target of the
  // config, with or without traffic.
  EntityList targets;
  std::vector<PluginStats> plugins;
  // Filled only while some prometheus plugin has per_consumer on (`perConsumer`), ordered by
  // route, consumer, status. `perConsumerDropped`: requests left out because a worker's table of
  // (route, consumer, status) keys reached its cap (RouteConsumerCounters::kMaxEntries).
  bool perConsumer = false;
  std::vector<RouteConsumerStats> routeConsumers;
  std::uint64_t perConsumerDropped = 0;
  std::uint64_t activeConnections = 0;
  std::uint64_t totalConnections = 0;
  int workers = 0;
};

}  // namespace archway::metrics
