#include "metrics/stats_merger.h"

#include <cmath>

namespace archway::metrics {
namespace {

// For each of our buckets, the Kong bucket its midpoint falls into (the same 0.8%
// resolution as the percentiles); kKongLatencyBucketsMs.size() means above every bound.
const std::array<std::uint8_t, kBuckets>& kongIndex() {
  static const auto table = [] {
    std::array<std::uint8_t, kBuckets> t{};
    for (int i = 0; i < kBuckets; ++i) {
      auto r = bucketRange(i);
      double midMs = (static_cast<double>(r.low) + static_cast<double>(r.width - 1) / 2.0) / 1000.0;
      std::size_t k = 0;
      while (k < kKongLatencyBucketsMs.size() && midMs > kKongLatencyBucketsMs[k]) ++k;
      t[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(k);
    }
    return t;
  }();
  return table;
}

template <class Array>
void addKong(Array& counts, std::uint64_t& sumUs, const SparseHistogram& h) {
  const auto& index = kongIndex();
  for (const auto& [i, c] : h.buckets) counts[index[i]] += c;
  sumUs += h.sum;
}

template <class Array>
CumulativeLatency cumulative(const Array& counts, std::uint64_t sumUs) {
  CumulativeLatency out;
  std::uint64_t seen = 0;
  for (std::size_t k = 0; k < kKongLatencyBucketsMs.size(); ++k) {
    seen += counts[k];
    out.buckets[k] = seen;
  }
  out.count = seen + counts[kKongLatencyBucketsMs.size()];
  out.sumMs = static_cast<double>(sumUs) / 1000.0;
  return out;
}

LatencySummary summarizeSparse(const std::vector<const SparseHistogram*>& parts) {
  static constexpr double kQs[] = {0.50, 0.90, 0.95, 0.99, 0.999};
  double p[5];
  std::uint64_t count, sum, max;
  sparsePercentiles(parts.data(), parts.size(), kQs, 5, p, count, sum, max);
  LatencySummary s;
  s.count = count;
  if (!count) return s;
  s.p50 = p[0] / 1000.0;
  s.p90 = p[1] / 1000.0;
  s.p95 = p[2] / 1000.0;
  s.p99 = p[3] / 1000.0;
  s.p999 = p[4] / 1000.0;
  s.max = static_cast<double>(max) / 1000.0;
  s.mean = static_cast<double>(sum) / static_cast<double>(count) / 1000.0;
  return s;
}

}  // namespace

StatsMerger::StatsMerger(std::vector<WorkerStats*> workers, double intervalS)
    : workers_(std::move(workers)), intervalS_(intervalS) {}

void StatsMerger::setEntities(std::shared_ptr<const EntityTable> table) {
  std::lock_guard lock(tableMutex_);
  table_ = std::move(table);
}

void StatsMerger::Series::push(const EntityShard::Delta& d, std::size_t window) {
  requests += d.requests;
  bytesIn += d.bytesIn;
  bytesOut += d.bytesOut;
  for (int i = 0; i < 5; ++i) status[i] += d.status[i];
  if (d.requests) {
    for (const auto& [code, n] : d.codes) codes[code] += n;
    addKong(kongTotal, sumTotalUs, d.total);
    addKong(kongUpstream, sumUpstreamUs, d.upstream);
    addKong(kongGateway, sumGatewayUs, d.gateway);
  }
  Interval iv;
  iv.requests = d.requests;
  if (d.requests) {
    iv.total = d.total;
    iv.upstream = d.upstream;
    iv.gateway = d.gateway;
  }
  recent.push_back(std::move(iv));
  while (recent.size() > window) recent.pop_front();
}

void StatsMerger::Series::fill(EntityStats& out, double intervalS) const {
  out.requests = requests;
  out.bytesIn = bytesIn;
  out.bytesOut = bytesOut;
  out.status1xx = status[0];
  out.status2xx = status[1];
  out.status3xx = status[2];
  out.status4xx = status[3];
  out.status5xx = status[4];
  out.statusCodes.assign(codes.begin(), codes.end());
  out.requestLatency = cumulative(kongTotal, sumTotalUs);
  out.upstreamLatency = cumulative(kongUpstream, sumUpstreamUs);
  out.gatewayLatency = cumulative(kongGateway, sumGatewayUs);
  const std::size_t perSecond =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(1.0 / intervalS)));
  thread_local std::vector<const SparseHistogram*> t1, u1, g1, t10;
  t1.clear();
  u1.clear();
  g1.clear();
  t10.clear();
  std::uint64_t lastSecond = 0;
  std::size_t n = recent.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Interval& iv = recent[i];
    if (!iv.requests) continue;
    t10.push_back(&iv.total);
    if (i + perSecond >= n) {
      t1.push_back(&iv.total);
      u1.push_back(&iv.upstream);
      g1.push_back(&iv.gateway);
      lastSecond += iv.requests;
    }
  }
  double seconds = static_cast<double>(std::min(n, perSecond)) * intervalS;
  out.rps = seconds > 0 ? static_cast<double>(lastSecond) / seconds : 0;
  out.latency1s = summarizeSparse(t1);
  out.latency10s = summarizeSparse(t10);
  out.upstreamLatency1s = summarizeSparse(u1);
  out.gatewayLatency1s = summarizeSparse(g1);
}

std::shared_ptr<const StatsFrame> StatsMerger::merge(std::int64_t timestampMs) {
  std::shared_ptr<const EntityTable> table;
  {
    std::lock_guard lock(tableMutex_);
    table = table_;
  }
  const std::size_t window =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(10.0 / intervalS_)));
  auto frame = std::make_shared<StatsFrame>();
  frame->sequence = ++sequence_;
  frame->timestampMs = timestampMs;
  frame->intervalS = intervalS_;
  frame->workers = static_cast<int>(workers_.size());

  EntityShard::Delta global;
  for (auto* w : workers_) {
    w->global().drainInto(global);
    frame->activeConnections +=
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, w->activeConnections()));
    frame->totalConnections += w->totalConnections();
  }
  total_.push(global, window);
  total_.fill(frame->total, intervalS_);
  frame->total.id = frame->total.name = "total";

  if (table) {
    std::map<std::string, EntityShard::Delta> serviceDeltas;
    std::map<std::string, std::string> serviceNames;
    for (const auto& info : table->routes) {
      EntityShard::Delta d;
      for (auto* w : workers_) {
        if (auto* shard = w->peekRoute(info.slot)) shard->drainInto(d);
      }
      Series& series = routes_[info.slot];
      series.push(d, window);
      EntityStats es;
      es.id = info.id;
      es.name = info.name.empty() ? info.id : info.name;
      es.service = info.serviceName.empty() ? info.serviceId : info.serviceName;
      series.fill(es, intervalS_);
      frame->routes.push_back(std::move(es));
      if (!info.serviceId.empty()) {
        serviceDeltas[info.serviceId].add(d);
        serviceNames[info.serviceId] = info.serviceName;
      }
    }
    for (auto& [id, d] : serviceDeltas) {
      Series& series = services_[id];
      series.push(d, window);
      EntityStats es;
      es.id = id;
      es.name = serviceNames[id].empty() ? id : serviceNames[id];
      series.fill(es, intervalS_);
      frame->services.push_back(std::move(es));
    }
    for (const auto& info : table->plugins) {
      EntityShard::Delta d;
      for (auto* w : workers_) {
        if (auto* shard = w->peekRoute(info.slot)) shard->drainInto(d);
      }
      Series& series = plugins_[info.slot];
      series.push(d, window);
      EntityStats es;
      series.fill(es, intervalS_);
      PluginStats ps;
      ps.routeId = info.routeId;
      ps.route = info.routeName.empty() ? info.routeId : info.routeName;
      ps.plugin = info.plugin;
      ps.requests = es.requests;
      // Recorded in ns: the "ms" of the summary are microseconds here.
      ps.meanUs = es.latency10s.mean;
      ps.p99Us = es.latency10s.p99;
      ps.maxUs = es.latency10s.max;
      ps.sumUs = es.requestLatency.sumMs;
      frame->plugins.push_back(std::move(ps));
    }
  }
  return frame;
}

}  // namespace archway::metrics
