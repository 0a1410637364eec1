#include "runtime/cluster_sync.h"

#include "core/log.h"
#include "plugins/rate_limiting/cluster_counters.h"
#include "store/ratelimit_counters.h"

namespace archway::runtime {
namespace {

namespace rl = plugins::ratelimit;

// The plugin's backend interface on a store::CounterStore.
class StoreBackend final : public rl::ClusterBackend {
 public:
  explicit StoreBackend(std::unique_ptr<store::CounterStore> store) : store_(std::move(store)) {}

  core::Result<std::vector<std::int64_t>> addAndRead(const std::vector<Row>& rows) override {
    deltas_.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      store::CounterDelta& d = deltas_[i];
      d.identifier.assign(r.identifier);
      d.period.assign(r.period);
      d.periodDate = r.periodDate;
      d.serviceId.assign(r.serviceId);
      d.routeId.assign(r.routeId);
      d.delta = r.delta;
      d.expiresAt = r.expiresAt;
    }
    return store_->addAndRead(deltas_);
  }

  core::Status deleteExpired(std::int64_t nowSec) override {
    auto n = store_->deleteExpired(nowSec);
    if (!n) return n.errors();
    return core::Ok{};
  }

 private:
  std::unique_ptr<store::CounterStore> store_;
  std::vector<store::CounterDelta> deltas_;  // reused from round to round
};

std::int64_t nowSec() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClusterSync::ClusterSync(std::shared_ptr<rl::ClusterCounters> counters,
                         std::chrono::milliseconds interval)
    : counters_(std::move(counters)), interval_(interval) {}

ClusterSync::~ClusterSync() {
  stop();
}

core::Status ClusterSync::start(const std::string& url) {
  auto opened = store::openCounterStore(url);
  if (!opened) return opened.errors();
  // Unreachable when no round has succeeded for this long (a round hanging on a vanished
  // server, not only failing ones): then fault_tolerant decides.
  const auto staleAfter = interval_.count() > 0
                              ? std::max(std::chrono::milliseconds(2000), 20 * interval_)
                              : std::chrono::milliseconds(std::chrono::hours(24));
  counters_->attach(std::make_shared<StoreBackend>(std::move(opened.value())), staleAfter);
  started_ = true;
  stopping_ = false;
  if (interval_.count() > 0) thread_ = std::thread([this] { loop(); });
  return core::Ok{};
}

core::Status ClusterSync::sync() {
  return counters_->sync(nowSec());
}

void ClusterSync::loop() {
  bool failing = false;  // logged once per outage
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto s = sync();
    if (!s && !failing) {
      core::log::error("rate-limiting: cannot sync cluster counters with the database",
                       {{"error", s.errorText()}});
    } else if (s && failing) {
      core::log::info("rate-limiting: cluster counters sync with the database again");
    }
    failing = !s;
    lock.lock();
  }
}

void ClusterSync::stop() {
  if (!started_) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto s = sync(); !s)
    core::log::warn("rate-limiting: last cluster counters sync failed", {{"error", s.errorText()}});
  counters_->detach();
  started_ = false;
}

}  // namespace archway::runtime
