#pragma once
// One immutable configuration snapshot: the config, its compiled router and the stats entity
// table. Built on the control thread, published with an atomic swap (SnapshotSource), and held
// by each request for its whole lifetime, so in-flight requests finish on the snapshot they
// started with.
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "balancer/upstream_balancer.h"
#include "core/entities.h"
#include "metrics/stats_merger.h"
#include "plugins/chain.h"
#include "router/router.h"

namespace archway::proxy {

struct Snapshot {
  std::uint64_t generation = 0;
  std::shared_ptr<const core::Config> config;
  std::unique_ptr<const router::Router> router;
  std::shared_ptr<const metrics::EntityTable> entities;
  // Services whose host names an upstream, and that upstream's balancer (Kong: service.host ==
  // upstream.name) with the stats slot of each of its targets (by target index). Keyed by the
  // service in `config`, so the request path hashes a pointer.
  struct ServiceBalancer {
    std::shared_ptr<const balancer::UpstreamBalancer> balancer;
    std::vector<std::uint32_t> targetStatsSlots;
  };
  std::unordered_map<const core::Service*, ServiceBalancer> serviceBalancers;
  // Stats slot of each consumer, by its index in config->consumers (stable across reloads).
  std::vector<std::uint32_t> consumerStatsSlots;
  // Plugin chains per route; null when the config has no plugins.
  std::shared_ptr<const plugins::CompiledPlugins> plugins;
  // Stats slot of each of plugins->timingSlots() (stable across reloads).
  std::vector<std::uint32_t> pluginStatsSlots;
  // The plugins' shared indexes (CompileEnv::sharedAcross), handed to the next build, which
  // reuses those its change left alone.
  std::shared_ptr<const plugins::SharedHandover::Objects> sharedIndexes;
};

// The published snapshot. Workers check `generation()` (one relaxed load) per request and take
// a new shared_ptr copy only when it changed, so the request path does no reference-count
// traffic in the steady state.
class SnapshotSource {
 public:
  void publish(std::shared_ptr<const Snapshot> s) {
    auto gen = s->generation;
    current_.store(std::move(s), std::memory_order_release);
    generation_.store(gen, std::memory_order_release);
  }
  std::shared_ptr<const Snapshot> load() const { return current_.load(std::memory_order_acquire); }
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace archway::proxy
