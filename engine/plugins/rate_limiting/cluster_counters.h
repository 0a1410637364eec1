#pragma once
// The `cluster` policy's counters: Kong's ratelimiting_metrics rows (identifier, period,
// period_date, service_id, route_id, value) in the config database, so every node on the same
// database shares one count.
//
// A worker never waits for the database. Requests are counted in a node-wide table
// (ClusterCounters) against the cluster-wide total last read from the database plus what this
// node counted since; an engine-owned sync thread calls sync() every ~100 ms, which adds the
// node's new counts to the database with one atomic upsert-increment per counter and reads the
// cluster-wide totals back. The price is the sync period: nodes do not see each other's
// requests of the last period, so a cluster of N nodes can admit up to (N - 1) times what was
// left of a limit at the last sync beyond it (a node that has not yet seen a counter at all
// counts from zero until its first sync of it).
//
// The database side is a ClusterBackend the engine implements with its store (plugins do not
// link the store). Without an attached backend (no database: declarative mode) the policy is
// refused when a config is compiled, as Kong refuses `cluster` without a database.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "plugins/plugin.h"

namespace archway::plugins::ratelimit {

// What the database keeps, implemented by the engine. Called only from the sync thread (one
// call at a time); may block.
class ClusterBackend {
 public:
  struct Row {
    std::string_view identifier;
    std::string_view period;      // "second" ... "year"
    std::int64_t periodDate = 0;  // window start, seconds since the epoch
    std::string_view serviceId, routeId;
    std::int64_t delta = 0;      // added to the stored value (0: only read it)
    std::int64_t expiresAt = 0;  // window end, seconds since the epoch (the row's ttl)
  };
  virtual ~ClusterBackend() = default;
  // Adds every row's delta atomically per row and returns each row's value after it (a row
  // absent from the database and read with delta 0 is 0), in the order given.
  virtual core::Result<std::vector<std::int64_t>> addAndRead(const std::vector<Row>& rows) = 0;
  // Deletes rows whose window ended before nowSec.
  virtual core::Status deleteExpired(std::int64_t nowSec) = 0;
};

// The node-wide table (one per engine, in CompileEnv::persistent()). take/untake: any worker,
// short critical sections on one of kShards mutexes, no I/O. sync: the engine's sync thread.
class ClusterCounters {
 public:
  static constexpr std::size_t kShards = 64;
  // Counters kept in memory at most; past it new counters are not counted (fail open).
  static constexpr std::size_t kMaxEntries = std::size_t{1} << 20;
  static constexpr std::int64_t kRefreshSeconds = 10;

  // The plugin's key of one counter.
  struct Key {
    std::string_view identifier, serviceId, routeId;
    std::uint8_t period = 0;  // index into kPeriodNames
    std::int64_t windowStart = 0, windowEnd = 0;
  };
  struct Take {
    bool available = true;    // false: the database is unreachable (fault_tolerant decides)
    bool taken = false;       // counted: the request fits the limit
    bool full = false;        // kMaxEntries reached: not counted (the caller lets it through)
    std::uint64_t prior = 0;  // requests already counted in the window before this one
  };

  ClusterCounters() = default;
  ClusterCounters(const ClusterCounters&) = delete;
  ClusterCounters& operator=(const ClusterCounters&) = delete;

  // The engine attaches its database (before compiling configs) and detaches it when it stops.
  // `staleAfter`: with no successful sync for that long the database counts as unreachable.
  void attach(std::shared_ptr<ClusterBackend> backend, std::chrono::milliseconds staleAfter);
  void detach();
  bool attached() const { return attached_.load(std::memory_order_acquire); }

  // `nowSec`: the request's time (counters used in the last kRefreshSeconds are read back
  // at every sync).
  Take take(const Key& key, double limit, std::int64_t nowSec);
  void untake(const Key& key);
  // Requests counted for `key` (cluster-wide as far as known), without counting.
  std::uint64_t peek(const Key& key) const;

  // One sync round: this node's new counts go to the database, the totals of every counter
  // used in the last kRefreshSeconds come back, ended windows are forgotten (and, every
  // `cleanupEvery` rounds, deleted from the database). Serialised; returns the backend's error.
  core::Status sync(std::int64_t nowSec);
  std::size_t size() const;

 private:
  struct Entry {
    std::string identifier, serviceId, routeId;
    std::uint8_t period = 0;
    std::int64_t windowStart = 0, windowEnd = 0;
    std::int64_t total = 0;     // cluster-wide, as of the last sync (includes our synced counts)
    std::int64_t inflight = 0;  // being added by the running sync
    std::int64_t pending = 0;   // counted here since
    std::int64_t lastUsed = 0;  // seconds since the epoch of the last take()
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> map;
  };
  static std::string mapKey(const Key& key);
  Shard& shardOf(const std::string& k) const;
  bool available() const;

  mutable std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> entries_{0};
  std::atomic<bool> attached_{false};
  std::atomic<bool> lastSyncOk_{true};
  std::atomic<std::int64_t> lastOkMs_{0};  // steady clock of the last successful sync
  std::atomic<std::int64_t> staleAfterMs_{2000};
  std::mutex syncMu_;  // one sync at a time; guards backend_ and rounds_
  std::shared_ptr<ClusterBackend> backend_;
  std::uint64_t rounds_ = 0;
};

// The engine's node-wide instance (created on first use).
std::shared_ptr<ClusterCounters> clusterCounters(Persistent& persistent);

}  // namespace archway::plugins::ratelimit
