#pragma once
// Merges every worker's shards into an immutable StatsFrame. Runs on the stats thread only
// (merge() is not reentrant); setEntities() may be called from any thread.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
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
};

class StatsMerger {
 public:
  // `workers` must outlive the merger. `intervalS` is the merge period (for rates).
  StatsMerger(std::vector<WorkerStats*> workers, double intervalS);

  void setEntities(std::shared_ptr<const EntityTable> table);
  std::shared_ptr<const StatsFrame> merge(std::int64_t timestampMs);

 private:
  struct Interval {
    std::uint64_t requests = 0;
    SparseHistogram total, upstream, gateway;
  };
  // Cumulative counters and the last kWindow intervals of one entity.
  struct Series {
    std::uint64_t requests = 0, bytesIn = 0, bytesOut = 0;
    std::array<std::uint64_t, 5> status{};
    std::map<int, std::uint64_t> codes;
    // Since start, for Prometheus: counts per Kong bucket (not yet cumulative; the last slot
    // is above every bound) and sums.
    std::array<std::uint64_t, kKongLatencyBucketsMs.size() + 1> kongTotal{}, kongUpstream{},
        kongGateway{};
    std::uint64_t sumTotalUs = 0, sumUpstreamUs = 0, sumGatewayUs = 0;
    std::deque<Interval> recent;
    void push(const EntityShard::Delta& d, std::size_t window);
    void fill(EntityStats& out, double intervalS) const;
  };

  std::vector<WorkerStats*> workers_;
  double intervalS_;
  std::mutex tableMutex_;
  std::shared_ptr<const EntityTable> table_;
  std::uint64_t sequence_ = 0;
  Series total_;
  std::map<std::uint32_t, Series> routes_;  // by slot
  std::map<std::string, Series> services_;  // by service id
  std::map<std::uint32_t, Series> plugins_;  // by slot
};

}  // namespace archway::metrics
