#include "metrics/stats_merger.h"

#include <cmath>

namespace archway::metrics {
namespace {

// Cumulative Kong buckets from our log-linear histogram: a bucket counts toward `le` when its
// midpoint is <= le (the same 0.8% resolution as the percentiles).
CumulativeLatency kongBuckets(const Histogram* h) {
  CumulativeLatency out;
  if (!h || h->count() == 0) return out;
  out.count = h->count();
  out.sumMs = static_cast<double>(h->sumUs()) / 1000.0;
  std::size_t b = 0;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    auto r = bucketRange(i);
    double midMs = (static_cast<double>(r.low) + static_cast<double>(r.width - 1) / 2.0) / 1000.0;
    while (b < kKongLatencyBucketsMs.size() && midMs > kKongLatencyBucketsMs[b])
      out.buckets[b++] = seen;
    seen += h->bucket(i);
  }
  while (b < kKongLatencyBucketsMs.size()) out.buckets[b++] = seen;
  return out;
}

LatencySummary summarize(const Histogram& h) {
  LatencySummary s;
  s.count = h.count();
  if (!s.count) return s;
  s.p50 = h.percentileUs(0.50) / 1000.0;
  s.p90 = h.percentileUs(0.90) / 1000.0;
  s.p95 = h.percentileUs(0.95) / 1000.0;
  s.p99 = h.percentileUs(0.99) / 1000.0;
  s.p999 = h.percentileUs(0.999) / 1000.0;
  s.max = static_cast<double>(h.maxUs()) / 1000.0;
  s.mean = h.meanUs() / 1000.0;
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
    for (std::size_t code = 100; code < d.codes.size(); ++code) {
      if (d.codes[code]) codes[static_cast<int>(code)] += d.codes[code];
    }
    if (!allTotal) {
      allTotal = std::make_unique<Histogram>();
      allUpstream = std::make_unique<Histogram>();
      allGateway = std::make_unique<Histogram>();
    }
    allTotal->add(d.total);
    allUpstream->add(d.upstream);
    allGateway->add(d.gateway);
  }
  Interval iv;
  iv.requests = d.requests;
  if (d.requests) {
    iv.total = d.total.sparse();
    iv.upstream = d.upstream.sparse();
    iv.gateway = d.gateway.sparse();
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
  out.requestLatency = kongBuckets(allTotal.get());
  out.upstreamLatency = kongBuckets(allUpstream.get());
  out.gatewayLatency = kongBuckets(allGateway.get());
  const std::size_t perSecond =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(1.0 / intervalS)));
  Histogram t1, u1, g1, t10;
  std::uint64_t lastSecond = 0;
  std::size_t n = recent.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Interval& iv = recent[i];
    if (!iv.requests) continue;
    t10.add(iv.total);
    if (i + perSecond >= n) {
      t1.add(iv.total);
      u1.add(iv.upstream);
      g1.add(iv.gateway);
      lastSecond += iv.requests;
    }
  }
  double seconds = static_cast<double>(std::min(n, perSecond)) * intervalS;
  out.rps = seconds > 0 ? static_cast<double>(lastSecond) / seconds : 0;
  out.latency1s = summarize(t1);
  out.latency10s = summarize(t10);
  out.upstreamLatency1s = summarize(u1);
  out.gatewayLatency1s = summarize(g1);
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
        auto& sd = serviceDeltas[info.serviceId];
        serviceNames[info.serviceId] = info.serviceName;
        sd.requests += d.requests;
        sd.bytesIn += d.bytesIn;
        sd.bytesOut += d.bytesOut;
        for (int i = 0; i < 5; ++i) sd.status[i] += d.status[i];
        for (std::size_t code = 0; code < d.codes.size(); ++code) sd.codes[code] += d.codes[code];
        sd.total.add(d.total);
        sd.upstream.add(d.upstream);
        sd.gateway.add(d.gateway);
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
  }
  return frame;
}

}  // namespace archway::metrics
