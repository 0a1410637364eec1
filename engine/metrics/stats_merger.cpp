#include "metrics/stats_merger.h"

#include <algorithm>
#include <cmath>
#include <tuple>

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

// The same percentiles as summarizeSparse, from a window's dense counts; `max` is the largest
// sample of the window's intervals.
LatencySummary summarizeDense(const std::vector<std::uint32_t>& counts, std::uint64_t count,
                              std::uint64_t sum, std::uint64_t max) {
  static constexpr double kQs[] = {0.50, 0.90, 0.95, 0.99, 0.999};
  LatencySummary s;
  if (!count || counts.empty()) return s;
  s.count = count;
  double p[5];
  std::size_t k = 0;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets && k < 5; ++i) {
    const std::uint32_t c = counts[static_cast<std::size_t>(i)];
    if (!c) continue;
    seen += c;
    while (k < 5) {
      auto rank = static_cast<std::uint64_t>(std::ceil(kQs[k] * static_cast<double>(count)));
      if (rank == 0) rank = 1;
      if (seen < rank) break;
      auto r = bucketRange(i);
      double mid = static_cast<double>(r.low) + static_cast<double>(r.width - 1) / 2.0;
      p[k++] = std::min(mid, static_cast<double>(max));
    }
  }
  for (; k < 5; ++k) p[k] = static_cast<double>(max);
  s.p50 = p[0] / 1000.0;
  s.p90 = p[1] / 1000.0;
  s.p95 = p[2] / 1000.0;
  s.p99 = p[3] / 1000.0;
  s.p999 = p[4] / 1000.0;
  s.max = static_cast<double>(max) / 1000.0;
  s.mean = static_cast<double>(sum) / static_cast<double>(count) / 1000.0;
  return s;
}

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::string consumerDisplayName(const EntityTable::ConsumerInfo& c) {
  return c.name.empty() ? c.id : c.name;
}

}  // namespace

StatsMerger::StatsMerger(std::vector<WorkerStats*> workers, double intervalS, Options options)
    : workers_(std::move(workers)),
      intervalS_(intervalS),
      options_(options),
      window10_(std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(10.0 / intervalS)))),
      window60_(std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(60.0 / intervalS)))),
      consumersSeen_(workers_.size(), 0) {
  total_.born = 1;  // the first merge
}

void StatsMerger::Rolling::add(const SparseHistogram& h) {
  if (!h.count) return;
  if (counts.empty()) counts.assign(kBuckets, 0);
  for (const auto& [i, c] : h.buckets) counts[i] += c;
  count += h.count;
  sum += h.sum;
}

void StatsMerger::Rolling::sub(const SparseHistogram& h) {
  if (!h.count || counts.empty()) return;
  for (const auto& [i, c] : h.buckets) counts[i] -= c;
  count -= h.count;
  sum -= h.sum;
  if (count == 0) {
    counts.clear();
    counts.shrink_to_fit();
    sum = 0;
  }
}

void StatsMerger::setEntities(std::shared_ptr<const EntityTable> table) {
  std::lock_guard lock(tableMutex_);
  for (auto* w : workers_) w->setPerConsumer(table && table->perConsumer);
  table_ = std::move(table);
}

void StatsMerger::Series::push(EntityShard::Delta& d, std::size_t window10,
                               std::size_t window60) {
  if (!d.requests && recent.empty()) return;  // idle: nothing to count, nothing to slide
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
    iv.total = std::move(d.total);
    iv.upstream = std::move(d.upstream);
    iv.gateway = std::move(d.gateway);
    for (auto& w : total) w.add(iv.total);
    for (auto& w : upstream) w.add(iv.upstream);
    for (auto& w : gateway) w.add(iv.gateway);
  }
  const bool active = iv.requests != 0;
  recent.push_back(std::move(iv));
  // The interval that just slid out of the 10 s window stays in the 60 s one.
  if (recent.size() > window10) {
    const Interval& out = recent[recent.size() - 1 - window10];
    total[0].sub(out.total);
    upstream[0].sub(out.upstream);
    gateway[0].sub(out.gateway);
  }
  while (recent.size() > std::max(window10, window60)) {
    const Interval& out = recent.front();
    if (window60 >= window10) {
      total[1].sub(out.total);
      upstream[1].sub(out.upstream);
      gateway[1].sub(out.gateway);
    }
    recent.pop_front();
  }
  // Every interval left is empty (the windows' sums are back to zero): the series goes idle.
  idleRun = active ? 0 : idleRun + 1;
  if (idleRun >= recent.size()) {
    recent.clear();
    total = upstream = gateway = {};
    idleRun = 0;
  }
}

void StatsMerger::Series::fill(EntityStats& out, double intervalS,
                               std::uint64_t sequence) const {
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
  const std::size_t per10 =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(10.0 / intervalS)));
  thread_local std::vector<const SparseHistogram*> t1, u1, g1;
  t1.clear();
  u1.clear();
  g1.clear();
  std::uint64_t lastSecond = 0;
  // Window maxima come from the intervals (a rolling sum cannot forget a maximum).
  std::array<std::uint64_t, 2> maxT{}, maxU{}, maxG{};
  std::size_t n = recent.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Interval& iv = recent[i];
    if (!iv.requests) continue;
    for (std::size_t w = 0; w < 2; ++w) {
      if (w == 0 && i + per10 < n) continue;
      maxT[w] = std::max(maxT[w], iv.total.max);
      maxU[w] = std::max(maxU[w], iv.upstream.max);
      maxG[w] = std::max(maxG[w], iv.gateway.max);
    }
    if (i + perSecond >= n) {
      t1.push_back(&iv.total);
      u1.push_back(&iv.upstream);
      g1.push_back(&iv.gateway);
      lastSecond += iv.requests;
    }
  }
  // The rate's window: the last second, or as much of it as the series has existed (an idle
  // series dropped its empty intervals but they count).
  const std::uint64_t age = sequence >= born ? sequence - born + 1 : 1;
  const std::size_t ticks =
      std::max(n, static_cast<std::size_t>(std::min<std::uint64_t>(age, perSecond)));
  double seconds = static_cast<double>(std::min(ticks, perSecond)) * intervalS;
  out.rps = seconds > 0 ? static_cast<double>(lastSecond) / seconds : 0;
  out.latency1s = summarizeSparse(t1);
  out.upstreamLatency1s = summarizeSparse(u1);
  out.gatewayLatency1s = summarizeSparse(g1);
  auto dense = [](const Rolling& r, std::uint64_t max) {
    return summarizeDense(r.counts, r.count, r.sum, max);
  };
  out.latency10s = dense(total[0], maxT[0]);
  out.latency60s = dense(total[1], maxT[1]);
  out.upstreamLatency10s = dense(upstream[0], maxU[0]);
  out.upstreamLatency60s = dense(upstream[1], maxU[1]);
  out.gatewayLatency10s = dense(gateway[0], maxG[0]);
  out.gatewayLatency60s = dense(gateway[1], maxG[1]);
}

void StatsMerger::mergeConsumers(const std::shared_ptr<const EntityTable>& table,
                                 StatsFrame& frame) {
  // Slots the workers made shards for since the last merge.
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    const std::uint32_t n = workers_[w]->consumerCount();
    for (auto i = static_cast<std::uint32_t>(consumersSeen_[w]); i < n; ++i) {
      auto [it, made] = consumers_.try_emplace(workers_[w]->consumerSlot(i));
      if (made) it->second.born = sequence_;
    }
    consumersSeen_[w] = n;
  }
  if (consumerIndexOf_ != table) {
    consumerIndex_.clear();
    consumerIndex_.reserve(table->consumers.size());
    for (std::size_t i = 0; i < table->consumers.size(); ++i)
      consumerIndex_.emplace(table->consumers[i].slot, i);
    consumerIndexOf_ = table;
  }
  // Every active consumer's shards are drained each tick (their windows must slide), but only
  // the top N are summarised into the frame.
  thread_local std::vector<std::pair<std::uint64_t, std::uint32_t>> ranked;
  ranked.clear();
  for (auto& [slot, series] : consumers_) {
    EntityShard::Delta d;
    for (auto* w : workers_) {
      if (auto* shard = w->peekRoute(slot)) shard->drainInto(d);
    }
    series.push(d, window10_, window60_);
    if (series.requests && consumerIndex_.count(slot)) ranked.emplace_back(series.requests, slot);
  }
  EntityShard::Delta overflow;
  for (auto* w : workers_) w->consumerOverflow().drainInto(overflow);
  consumerOverflow_.push(overflow, window10_, window60_);

  frame.consumersActive = ranked.size();
  const std::size_t keep = std::min(ranked.size(), options_.topConsumers);
  auto byRequests = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                    ranked.end(), byRequests);
  for (std::size_t i = 0; i < keep; ++i) {
    const auto& info = table->consumers[consumerIndex_.at(ranked[i].second)];
    EntityStats es;
    es.id = info.id;
    es.name = consumerDisplayName(info);
    consumers_.at(ranked[i].second).fill(es, intervalS_, sequence_);
    frame.consumers.push_back(std::move(es));
  }
  if (consumerOverflow_.requests) {
    EntityStats es;
    es.id = es.name = "(other)";
    consumerOverflow_.fill(es, intervalS_, sequence_);
    frame.consumers.push_back(std::move(es));
  }
}

void StatsMerger::mergePerConsumer(const EntityTable& table, StatsFrame& frame) {
  frame.perConsumer = true;
  std::unordered_map<std::uint32_t, std::size_t> routeIndex;  // slot -> index in frame.routes
  routeIndex.reserve(table.routes.size());
  for (std::size_t i = 0; i < table.routes.size(); ++i) routeIndex.emplace(table.routes[i].slot, i);
  // Label ids: 0 "", 1 "(other)", 2 + i the username of table.consumers[i]. Consumers without a
  // username share Kong's empty label with requests that had no consumer.
  using Key = std::tuple<std::size_t, std::size_t, int>;  // route index, label id, status
  std::map<Key, RouteConsumerStats> sums;
  for (auto* w : workers_) {
    const RouteConsumerCounters* counters = w->perConsumer();
    if (!counters) continue;
    frame.perConsumerDropped += counters->dropped();
    counters->forEach([&](const RouteConsumerCounters::Entry& e) {
      auto route = routeIndex.find(e.routeSlot);
      if (route == routeIndex.end()) return;  // a route no longer configured
      std::size_t label = 0;
      if (e.consumer == RouteConsumerCounters::kOtherConsumer) {
        label = 1;
      } else if (e.consumer != RouteConsumerCounters::kNoConsumer) {
        auto c = consumerIndex_.find(e.consumer - RouteConsumerCounters::consumerKey(0));
        if (c == consumerIndex_.end()) return;  // a consumer no longer configured
        if (!table.consumers[c->second].username.empty()) label = 2 + c->second;
      }
      RouteConsumerStats& s = sums[Key{route->second, label, e.status}];
      s.requests += e.requests;
      s.bytesIn += e.bytesIn;
      s.bytesOut += e.bytesOut;
    });
  }
  frame.routeConsumers.reserve(sums.size());
  for (auto& [key, s] : sums) {
    const auto [route, label, status] = key;
    s.route = route;
    s.status = status;
    s.consumer = label == 0 ? std::string() : label == 1 ? std::string("(other)")
                                                           : table.consumers[label - 2].username;
    frame.routeConsumers.push_back(std::move(s));
  }
}

StatsMerger::Entry& StatsMerger::entry(std::unordered_map<std::uint32_t, Entry>& map,
                                       std::uint32_t slot) {
  auto [it, made] = map.try_emplace(slot);
  if (made) it->second.born = sequence_;
  return it->second;
}

const EntityStats& StatsMerger::update(Entry& e, EntityShard::Delta& d) {
  // Nothing changed; a series that never had requests fills the zeros `last` starts with.
  if (!d.requests && (!e.series || e.series->idle())) return e.last;
  if (!e.series) {
    e.series = std::make_unique<Series>();
    e.series->born = e.born;
  }
  e.series->push(d, window10_, window60_);
  e.series->fill(e.last, intervalS_, sequence_);
  e.published.reset();
  return e.last;
}

std::shared_ptr<const EntityStats> StatsMerger::publish(Entry& e) {
  if (!e.published) e.published = std::make_shared<const EntityStats>(e.last);
  return e.published;
}

void StatsMerger::indexServices(const EntityTable& table) {
  std::map<std::string_view, std::string_view> names;  // id -> name, sorted by id
  for (const auto& r : table.routes)
    if (!r.serviceId.empty()) names[r.serviceId] = r.serviceName;
  serviceList_.clear();
  std::unordered_map<std::string_view, std::size_t> index;
  for (const auto& [id, name] : names) {
    index.emplace(id, serviceList_.size());
    serviceList_.push_back({std::string(id), std::string(name)});
  }
  routeService_.clear();
  routeService_.reserve(table.routes.size());
  for (const auto& r : table.routes)
    routeService_.push_back(r.serviceId.empty() ? kNone : index.at(r.serviceId));
}

std::shared_ptr<const StatsFrame> StatsMerger::merge(std::int64_t timestampMs) {
  std::shared_ptr<const EntityTable> table;
  {
    std::lock_guard lock(tableMutex_);
    table = table_;
  }
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
  total_.push(global, window10_, window60_);
  total_.fill(frame->total, intervalS_, sequence_);
  frame->total.id = frame->total.name = "total";

  if (table) {
    if (namedTable_ != table) {
      namedTable_ = table;
      ++tableGeneration_;
      indexServices(*table);
    }
    // Only routes with requests since the last merge feed their service's delta.
    std::vector<EntityShard::Delta> serviceDeltas(serviceList_.size());
    frame->routes.reserve(table->routes.size());
    for (std::size_t r = 0; r < table->routes.size(); ++r) {
      const auto& info = table->routes[r];
      EntityShard::Delta d;
      for (auto* w : workers_) {
        if (auto* shard = w->peekRoute(info.slot)) shard->drainInto(d);
      }
      if (d.requests && routeService_[r] != kNone)  // before push() takes the histograms
        serviceDeltas[routeService_[r]].add(d);
      Entry& e = entry(routes_, info.slot);
      if (e.names != tableGeneration_) {
        e.last.id = info.id;
        e.last.name = info.name.empty() ? info.id : info.name;
        e.last.service = info.serviceName.empty() ? info.serviceId : info.serviceName;
        e.names = tableGeneration_;
        e.published.reset();
      }
      update(e, d);
      frame->routes.push_back(publish(e));
    }
    frame->services.reserve(serviceList_.size());
    for (std::size_t i = 0; i < serviceList_.size(); ++i) {
      const auto& svc = serviceList_[i];
      auto [it, made] = services_.try_emplace(svc.id);
      Entry& e = it->second;
      if (made) e.born = sequence_;
      if (e.names != tableGeneration_) {
        e.last.id = svc.id;
        e.last.name = svc.name.empty() ? svc.id : svc.name;
        e.names = tableGeneration_;
        e.published.reset();
      }
      update(e, serviceDeltas[i]);
      frame->services.push_back(publish(e));
    }
    frame->plugins.reserve(table->plugins.size());
    for (const auto& info : table->plugins) {
      EntityShard::Delta d;
      for (auto* w : workers_) {
        if (auto* shard = w->peekRoute(info.slot)) shard->drainInto(d);
      }
      const EntityStats& es = update(entry(plugins_, info.slot), d);
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
    frame->targets.reserve(table->targets.size());
    for (const auto& info : table->targets) {
      EntityShard::Delta d;
      for (auto* w : workers_) {
        if (auto* shard = w->peekRoute(info.slot)) shard->drainInto(d);
      }
      Entry& e = entry(targets_, info.slot);
      if (e.names != tableGeneration_) {
        e.last.id = info.upstreamId + ":" + info.target;
        e.last.name = info.target;
        e.last.upstream = info.upstreamName.empty() ? info.upstreamId : info.upstreamName;
        e.names = tableGeneration_;
        e.published.reset();
      }
      update(e, d);
      frame->targets.push_back(publish(e));
    }
    mergeConsumers(table, *frame);
    if (table->perConsumer) mergePerConsumer(*table, *frame);
  }
  return frame;
}

}  // namespace archway::metrics
