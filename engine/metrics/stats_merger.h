#pragma once
// Merges every worker's shards into an immutable StatsFrame. Runs on the stats thread only
// (merge() is not reentrant); setEntities() may be called from any thread.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "metrics/stats_frame.h"
#include "metrics/stats_shard.h"

namespace archway::metrics {

// The routes of the config in force, with the stats slot each one records into.
struct EntityTable {
  struct RouteInfo {
    std::uint32_t slot;
    std::string id, name, serviceId, serviceName;
  };
  std::vector<RouteInfo> routes;
  // Per-plugin timing slots (same slot space as routes). Their shards record nanoseconds where
  // route shards record microseconds, so their summaries read one unit finer.
  struct PluginInfo {
    std::uint32_t slot;
    std::string routeId, routeName, plugin;
  };
  std::vector<PluginInfo> plugins;
  // Every consumer of the config, with the slot its shards use (WorkerStats::consumer).
  struct ConsumerInfo {
    std::uint32_t slot;
    std::string id, name;  // name: username, else custom_id, else id
    std::string username;  // Kong's prometheus consumer label ("" without one)
  };
  std::vector<ConsumerInfo> consumers;
  // Some prometheus plugin has per_consumer on: the workers count requests by route, consumer
  // and status code, and frames carry them (StatsFrame::routeConsumers).
  bool perConsumer = false;
  // Every target of every upstream.
  struct TargetInfo {
    std::uint32_t slot;
    std::string upstreamId, upstreamName, target;  // target: "host:port"
  };
  std::vector<TargetInfo> targets;
};

class StatsMerger {
 public:
  struct Options {
    // Consumers a frame carries at most: those with the most requests since start.
    std::size_t topConsumers = 100;
  };
  // `workers` must outlive the merger. `intervalS` is the merge period (for rates).
  StatsMerger(std::vector<WorkerStats*> workers, double intervalS, Options options);
  StatsMerger(std::vector<WorkerStats*> workers, double intervalS)
      : StatsMerger(std::move(workers), intervalS, Options{}) {}

  // Also turns the workers' per-consumer counting on or off (table->perConsumer).
  void setEntities(std::shared_ptr<const EntityTable> table);
  std::shared_ptr<const StatsFrame> merge(std::int64_t timestampMs);

 private:
  struct Interval {
    std::uint64_t requests = 0;
    SparseHistogram total, upstream, gateway;
  };
  // The sum of the intervals of a sliding window as dense bucket counts, so a window's
  // percentiles cost one walk of the buckets instead of a sort of every interval's entries.
  // The counts are allocated while the window holds samples and freed when it empties.
  struct Rolling {
    std::vector<std::uint32_t> counts;
    std::uint64_t count = 0, sum = 0;
    void add(const SparseHistogram& h);
    void sub(const SparseHistogram& h);
  };
  // Cumulative counters and the last 60 s of intervals of one entity. A series whose intervals
  // are all empty drops them (`recent` empty): it is idle, and an idle series with no new
  // requests is not pushed at all, so a merge costs O(entities with traffic in the last 60 s)
  // plus one cheap drain check per entity.
  struct Series {
    std::uint64_t born = 0;  // the merge sequence that made it (for its first second's rate)
    std::size_t idleRun = 0;  // trailing empty intervals
    std::uint64_t requests = 0, bytesIn = 0, bytesOut = 0;
    std::array<std::uint64_t, 5> status{};
    std::map<int, std::uint64_t> codes;
    // Since start, for Prometheus: counts per Kong bucket (not yet cumulative; the last slot
    // is above every bound) and sums.
    std::array<std::uint64_t, kKongLatencyBucketsMs.size() + 1> kongTotal{}, kongUpstream{},
        kongGateway{};
    std::uint64_t sumTotalUs = 0, sumUpstreamUs = 0, sumGatewayUs = 0;
    std::deque<Interval> recent;
    // [0]: the last 10 s, [1]: the last 60 s; of total, upstream and gateway time.
    std::array<Rolling, 2> total, upstream, gateway;
    bool idle() const { return recent.empty(); }
    void push(EntityShard::Delta& d, std::size_t window10, std::size_t window60);
    // Every field of `out` but its names. `sequence`: the merge being built.
    void fill(EntityStats& out, double intervalS, std::uint64_t sequence) const;
  };
  // A series and the stats it gave the last frame: an idle series with no new requests gives
  // the same stats again, copied instead of recomputed (a series that never had requests gives
  // the zeros `last` starts with, and gets its series with its first requests: 10^4 new routes
  // do not each make a series). `names`: the table generation the names of `last` are for.
  struct Entry {
    std::unique_ptr<Series> series;
    std::uint64_t born = 0;
    EntityStats last;
    std::uint64_t names = 0;
    // `last` as frames hold it; reset when `last` changes, so an unchanged entity is the
    // previous frame's object.
    std::shared_ptr<const EntityStats> published;
  };
  // Pushes `d` (unless idle and empty) and refreshes e.last when anything changed.
  const EntityStats& update(Entry& e, EntityShard::Delta& d);
  // e.last as a frame holds it (a copy only when it changed since the last frame).
  static std::shared_ptr<const EntityStats> publish(Entry& e);
  Entry& entry(std::unordered_map<std::uint32_t, Entry>& map, std::uint32_t slot);
  // Per table: the distinct services of its routes (sorted by id) and each route's index
  // among them (npos without a service).
  void indexServices(const EntityTable& table);

  void mergeConsumers(const std::shared_ptr<const EntityTable>& table, StatsFrame& frame);
  // After mergeConsumers (it uses consumerIndex_ for this table).
  void mergePerConsumer(const EntityTable& table, StatsFrame& frame);

  std::vector<WorkerStats*> workers_;
  double intervalS_;
  Options options_;
  std::size_t window10_, window60_;
  std::mutex tableMutex_;
  std::shared_ptr<const EntityTable> table_;
  std::uint64_t sequence_ = 0;
  Series total_;
  std::unordered_map<std::uint32_t, Entry> routes_;  // by slot
  std::map<std::string, Entry> services_;            // by service id
  std::unordered_map<std::uint32_t, Entry> plugins_;  // by slot
  std::unordered_map<std::uint32_t, Entry> targets_;  // by slot
  // The table the names and the service index are for, and its generation (counted up).
  std::shared_ptr<const EntityTable> namedTable_;
  std::uint64_t tableGeneration_ = 0;
  struct ServiceInfo {
    std::string id, name;
  };
  std::vector<ServiceInfo> serviceList_;
  std::vector<std::size_t> routeService_;
  // Consumers: the slots any worker made a shard for, how far each worker's list was read,
  // and slot -> index in the entity table (rebuilt when the table changes).
  std::unordered_map<std::uint32_t, Series> consumers_;
  Series consumerOverflow_;
  std::vector<std::uint32_t> consumersSeen_;
  std::shared_ptr<const EntityTable> consumerIndexOf_;
  std::unordered_map<std::uint32_t, std::size_t> consumerIndex_;
};

}  // namespace archway::metrics
