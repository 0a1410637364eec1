#pragma once
// Per-worker statistics. A worker writes only its own WorkerStats (relaxed single-writer
// atomics, no locks); the stats thread reads every worker's shards and merges them.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "metrics/histogram.h"
#include "metrics/route_consumer_counters.h"

namespace archway::metrics {

// What the proxy reports for one finished request.
struct RequestSample {
  int status = 0;
  std::uint64_t totalUs = 0;     // first byte read to last byte written
  std::uint64_t upstreamUs = 0;  // upstream connect + wait + response; 0 when not proxied
  std::uint64_t bytesIn = 0;     // request bytes from the client
  std::uint64_t bytesOut = 0;    // response bytes to the client
  bool proxied = false;          // reached an upstream
};

class EntityShard {
 public:
  explicit EntityShard(std::uint32_t slot = 0xffffffffu) : slot_(slot) {}
  void record(const RequestSample& s);  // worker thread only
  // The stats slot it was made for (WorkerStats::route/consumer); kNoSlot for the global and
  // overflow shards.
  std::uint32_t slot() const { return slot_; }

  // Stats thread only: adds what changed since the previous drain.
  static constexpr int kMaxStatus = 600;  // codes 100..599 are counted one by one
  // What changed since the previous drain, sparse: cheap to build for every route every tick.
  struct Delta {
    std::uint64_t requests = 0, bytesIn = 0, bytesOut = 0;
    std::array<std::uint64_t, 5> status{};             // 1xx..5xx
    std::vector<std::pair<int, std::uint64_t>> codes;  // may repeat a code (one per worker)
    SparseHistogram total, upstream, gateway;
    void add(const Delta& other);
  };
  void drainInto(Delta& out);

 private:
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint32_t slot_;
  std::atomic<std::uint64_t> requests_{0}, bytesIn_{0}, bytesOut_{0};
  std::array<std::atomic<std::uint64_t>, 5> status_{};
  std::array<std::atomic<std::uint32_t>, kMaxStatus> codes_{};
  ShardHistogram total_, upstream_, gateway_;
  // reader-owned
  std::uint64_t prevRequests_ = 0, prevBytesIn_ = 0, prevBytesOut_ = 0;
  std::array<std::uint64_t, 5> prevStatus_{};
  std::array<std::uint32_t, kMaxStatus> prevCodes_{};
};

class WorkerStats {
 public:
  static constexpr std::uint32_t kChunk = 256;
  static constexpr std::uint32_t kMaxChunks = 4096;  // 1M route slots
  static constexpr std::uint32_t kNoSlot = 0xffffffffu;

  WorkerStats();
  ~WorkerStats();
  WorkerStats(const WorkerStats&) = delete;
  WorkerStats& operator=(const WorkerStats&) = delete;

  EntityShard& global() { return global_; }
  // Worker thread only; allocates the shard on the route's first request.
  EntityShard* route(std::uint32_t slot);
  // Any thread; nullptr until the worker has recorded on that slot.
  EntityShard* peekRoute(std::uint32_t slot) const;

  // Consumers share the slot space but their shards are capped: a gateway may know 100,000
  // consumers, and a shard is ~40 KB. Worker thread only: the shard of consumer `slot`, made on
  // the consumer's first request while fewer than maxConsumers() have one; past the cap, the
  // overflow shard. Allocates only on a consumer's first request.
  EntityShard* consumer(std::uint32_t slot) {
    if (EntityShard* s = peekRoute(slot)) return s;
    return newConsumer(slot);
  }
  // Before the worker runs. Default kDefaultMaxConsumers.
  void setMaxConsumers(std::uint32_t n);
  std::uint32_t maxConsumers() const { return maxConsumers_; }
  static constexpr std::uint32_t kDefaultMaxConsumers = 1000;
  // Stats thread: the consumer slots with a shard, in the order they were made (append-only;
  // slots [0, consumerCount()) are readable).
  std::uint32_t consumerCount() const { return consumerCount_.load(std::memory_order_acquire); }
  std::uint32_t consumerSlot(std::uint32_t i) const { return consumerSlots_[i]; }
  EntityShard& consumerOverflow() { return consumerOverflow_; }

  // Kong's prometheus per_consumer: requests by route, consumer and status code
  // (RouteConsumerCounters). The stats merger turns it on with each config while some
  // prometheus plugin has per_consumer on; off, recordPerConsumer() is one relaxed load.
  void setPerConsumer(bool on) { perConsumer_.store(on, std::memory_order_relaxed); }
  // Worker thread only: one finished request, with the shards route() and consumer() returned
  // for it (consumer null when no consumer was identified).
  void recordPerConsumer(const EntityShard* route, const EntityShard* consumer,
                         const RequestSample& s) {
    if (route && perConsumer_.load(std::memory_order_relaxed))
      recordPerConsumerOn(*route, consumer, s);
  }
  // Stats thread: null until a request was recorded with per_consumer on.
  const RouteConsumerCounters* perConsumer() const {
    return routeConsumers_.load(std::memory_order_acquire);
  }

  void connectionOpened() {
    active_.store(active_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    totalConnections_.store(totalConnections_.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
  }
  void connectionClosed() {
    active_.store(active_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
  std::int64_t activeConnections() const { return active_.load(std::memory_order_relaxed); }
  std::uint64_t totalConnections() const {
    return totalConnections_.load(std::memory_order_relaxed);
  }

 private:
  using Chunk = std::array<std::atomic<EntityShard*>, kChunk>;
  EntityShard* newConsumer(std::uint32_t slot);
  void recordPerConsumerOn(const EntityShard& route, const EntityShard* consumer,
                           const RequestSample& s);
  EntityShard global_;
  EntityShard consumerOverflow_;
  std::uint32_t maxConsumers_ = 0;
  std::unique_ptr<std::uint32_t[]> consumerSlots_;  // written before consumerCount_ moves
  std::atomic<std::uint32_t> consumerCount_{0};
  std::array<std::atomic<Chunk*>, kMaxChunks> chunks_{};
  std::atomic<std::int64_t> active_{0};
  std::atomic<std::uint64_t> totalConnections_{0};
  std::atomic<bool> perConsumer_{false};
  std::atomic<RouteConsumerCounters*> routeConsumers_{nullptr};  // made by the worker, owned here
};

}  // namespace archway::metrics
