#include "plugins/rate_limiting/cluster_counters.h"

#include <functional>

#include "core/log.h"
#include "plugins/rate_limiting/windows.h"

namespace archway::plugins::ratelimit {
namespace {

// An ended window is kept this long (a request racing the window's end may still count in it).
constexpr std::int64_t kGraceSeconds = 2;
// Rows of ended windows are deleted from the database every this many rounds (~30 s at the
// default 100 ms sync period).
constexpr std::uint64_t kCleanupEvery = 300;

std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ClusterCounters::attach(std::shared_ptr<ClusterBackend> backend,
                             std::chrono::milliseconds staleAfter) {
  std::lock_guard g(syncMu_);
  backend_ = std::move(backend);
  staleAfterMs_ = staleAfter.count();
  lastOkMs_ = steadyMs();
  lastSyncOk_ = true;
  attached_.store(backend_ != nullptr, std::memory_order_release);
}

void ClusterCounters::detach() {
  std::lock_guard g(syncMu_);
  attached_.store(false, std::memory_order_release);
  backend_.reset();
}

std::string ClusterCounters::mapKey(const Key& key) {
  std::string k;
  k.reserve(key.identifier.size() + key.serviceId.size() + key.routeId.size() + 24);
  k.append(key.routeId).push_back('\0');
  k.append(key.serviceId).push_back('\0');
  k.append(key.identifier).push_back('\0');
  k.push_back(static_cast<char>('0' + key.period));
  k.append(std::to_string(key.windowStart));
  return k;
}

ClusterCounters::Shard& ClusterCounters::shardOf(const std::string& k) const {
  return shards_[std::hash<std::string>()(k) % kShards];
}

bool ClusterCounters::available() const {
  if (!attached_.load(std::memory_order_acquire)) return false;
  if (!lastSyncOk_.load(std::memory_order_relaxed)) return false;
  return steadyMs() - lastOkMs_.load(std::memory_order_relaxed) <
         staleAfterMs_.load(std::memory_order_relaxed);
}

ClusterCounters::Take ClusterCounters::take(const Key& key, double limit, std::int64_t nowSec) {
  Take t;
  if (!available()) {
    t.available = false;
    return t;
  }
  const std::string k = mapKey(key);
  Shard& s = shardOf(k);
  std::lock_guard g(s.mu);
  auto it = s.map.find(k);
  if (it == s.map.end()) {
    if (entries_.load(std::memory_order_relaxed) >= kMaxEntries) {
      t.full = true;
      return t;
    }
    Entry e;
    e.identifier = key.identifier;
    e.serviceId = key.serviceId;
    e.routeId = key.routeId;
    e.period = key.period;
    e.windowStart = key.windowStart;
    e.windowEnd = key.windowEnd;
    it = s.map.emplace(k, std::move(e)).first;
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  Entry& e = it->second;
  e.lastUsed = nowSec;
  const std::int64_t used = std::max<std::int64_t>(0, e.total + e.inflight + e.pending);
  t.prior = static_cast<std::uint64_t>(used);
  if (static_cast<double>(used) < limit) {
    ++e.pending;
    t.taken = true;
  }
  return t;
}

void ClusterCounters::untake(const Key& key) {
  const std::string k = mapKey(key);
  Shard& s = shardOf(k);
  std::lock_guard g(s.mu);
  // A sync may have moved the count to inflight meanwhile: a negative pending gives it back.
  if (auto it = s.map.find(k); it != s.map.end()) --it->second.pending;
}

std::uint64_t ClusterCounters::peek(const Key& key) const {
  const std::string k = mapKey(key);
  Shard& s = shardOf(k);
  std::lock_guard g(s.mu);
  auto it = s.map.find(k);
  if (it == s.map.end()) return 0;
  const Entry& e = it->second;
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.total + e.inflight + e.pending));
}

std::size_t ClusterCounters::size() const {
  return entries_.load(std::memory_order_relaxed);
}

core::Status ClusterCounters::sync(std::int64_t nowSec) {
  std::lock_guard g(syncMu_);
  if (!backend_) return core::Ok{};
  // Entries stay where they are while this runs: only sync() erases (under syncMu_), and
  // unordered_map never moves its elements, so the pointers and views below stay valid.
  std::vector<ClusterBackend::Row> rows;
  std::vector<std::pair<Shard*, Entry*>> where;
  for (Shard& s : shards_) {
    std::lock_guard sg(s.mu);
    for (auto it = s.map.begin(); it != s.map.end();) {
      Entry& e = it->second;
      if (e.pending == 0 && e.inflight == 0 && e.windowEnd + kGraceSeconds <= nowSec) {
        it = s.map.erase(it);
        entries_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      // New counts always go out; totals are read back for windows still open that were
      // used lately (an idle counter's total is refreshed by the sync after its next use).
      if (e.pending != 0 || (e.windowEnd > nowSec && e.lastUsed + kRefreshSeconds >= nowSec)) {
        e.inflight = e.pending;
        e.pending = 0;
        rows.push_back({e.identifier, kPeriodNames[e.period], e.windowStart, e.serviceId, e.routeId,
                        e.inflight, e.windowEnd});
        where.emplace_back(&s, &e);
      }
      ++it;
    }
  }
  core::Status status = core::Ok{};
  if (!rows.empty()) {
    auto totals = backend_->addAndRead(rows);
    const bool ok = totals.ok() && totals->size() == rows.size();
    for (std::size_t i = 0; i < where.size(); ++i) {
      std::lock_guard sg(where[i].first->mu);
      Entry& e = *where[i].second;
      if (ok) {
        e.total = (*totals)[i];
      } else {
        e.pending += e.inflight;  // tried again next round
      }
      e.inflight = 0;
    }
    if (!ok) {
      status = totals.ok() ? core::Status(core::Error{"db", "wrong number of counter rows"})
                           : core::Status(totals.errors());
    }
  }
  if (status && ++rounds_ % kCleanupEvery == 0) {
    if (auto s = backend_->deleteExpired(nowSec - kGraceSeconds); !s)
      core::log::warn("rate-limiting: deleting expired cluster counters failed",
                      {{"error", s.errorText()}});
  }
  lastSyncOk_.store(status.ok(), std::memory_order_relaxed);
  if (status) lastOkMs_.store(steadyMs(), std::memory_order_relaxed);
  return status;
}

std::shared_ptr<ClusterCounters> clusterCounters(Persistent& persistent) {
  return persistent.get<ClusterCounters>("rate-limiting:cluster-counters");
}

}  // namespace archway::plugins::ratelimit
