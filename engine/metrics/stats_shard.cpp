#include "metrics/stats_shard.h"

namespace archway::metrics {

void EntityShard::record(const RequestSample& s) {
  bump(requests_, 1);
  bump(bytesIn_, s.bytesIn);
  bump(bytesOut_, s.bytesOut);
  int cls = s.status / 100 - 1;
  if (cls >= 0 && cls < 5) {
    bump(status_[cls], 1);
    auto& code = codes_[static_cast<std::size_t>(s.status)];
    code.store(code.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  total_.record(s.totalUs);
  if (s.proxied) {
    upstream_.record(s.upstreamUs);
    gateway_.record(s.totalUs > s.upstreamUs ? s.totalUs - s.upstreamUs : 0);
  } else {
    gateway_.record(s.totalUs);
  }
}

void EntityShard::drainInto(Delta& out) {
  std::uint64_t r = requests_.load(std::memory_order_relaxed);
  if (r == prevRequests_) return;
  out.requests += r - prevRequests_;
  prevRequests_ = r;
  std::uint64_t bi = bytesIn_.load(std::memory_order_relaxed);
  std::uint64_t bo = bytesOut_.load(std::memory_order_relaxed);
  out.bytesIn += bi - prevBytesIn_;
  out.bytesOut += bo - prevBytesOut_;
  prevBytesIn_ = bi;
  prevBytesOut_ = bo;
  for (int i = 0; i < 5; ++i) {
    std::uint64_t v = status_[i].load(std::memory_order_relaxed);
    if (v == prevStatus_[i]) continue;
    out.status[i] += v - prevStatus_[i];
    prevStatus_[i] = v;
    for (int code = (i + 1) * 100; code < (i + 2) * 100; ++code) {
      std::uint32_t n = codes_[static_cast<std::size_t>(code)].load(std::memory_order_relaxed);
      auto delta = static_cast<std::uint32_t>(n - prevCodes_[static_cast<std::size_t>(code)]);
      if (delta) out.codes.emplace_back(code, delta);
      prevCodes_[static_cast<std::size_t>(code)] = n;
    }
  }
  total_.drainInto(out.total);
  upstream_.drainInto(out.upstream);
  gateway_.drainInto(out.gateway);
}

void EntityShard::Delta::add(const Delta& o) {
  requests += o.requests;
  bytesIn += o.bytesIn;
  bytesOut += o.bytesOut;
  for (int i = 0; i < 5; ++i) status[i] += o.status[i];
  codes.insert(codes.end(), o.codes.begin(), o.codes.end());
  total.add(o.total);
  upstream.add(o.upstream);
  gateway.add(o.gateway);
}

WorkerStats::WorkerStats() {
  setMaxConsumers(kDefaultMaxConsumers);
}

void WorkerStats::setMaxConsumers(std::uint32_t n) {
  maxConsumers_ = n;
  consumerSlots_ = std::make_unique<std::uint32_t[]>(n ? n : 1);
  consumerCount_.store(0, std::memory_order_release);
}

EntityShard* WorkerStats::newConsumer(std::uint32_t slot) {
  if (slot == kNoSlot || slot >= kChunk * kMaxChunks) return nullptr;
  const std::uint32_t n = consumerCount_.load(std::memory_order_relaxed);
  if (n >= maxConsumers_) return &consumerOverflow_;
  EntityShard* shard = route(slot);
  consumerSlots_[n] = slot;
  consumerCount_.store(n + 1, std::memory_order_release);
  return shard;
}

void WorkerStats::recordPerConsumerOn(const EntityShard& route, const EntityShard* consumer,
                                      const RequestSample& s) {
  RouteConsumerCounters* counters = routeConsumers_.load(std::memory_order_relaxed);
  if (!counters) {
    counters = new RouteConsumerCounters();
    routeConsumers_.store(counters, std::memory_order_release);
  }
  std::uint32_t key = RouteConsumerCounters::kNoConsumer;
  if (consumer == &consumerOverflow_)
    key = RouteConsumerCounters::kOtherConsumer;
  else if (consumer)
    key = RouteConsumerCounters::consumerKey(consumer->slot());
  counters->record(route.slot(), key, s.status, s.bytesIn, s.bytesOut);
}

WorkerStats::~WorkerStats() {
  delete routeConsumers_.load(std::memory_order_acquire);
  for (auto& c : chunks_) {
    Chunk* chunk = c.load(std::memory_order_acquire);
    if (!chunk) continue;
    for (auto& e : *chunk) delete e.load(std::memory_order_acquire);
    delete chunk;
  }
}

EntityShard* WorkerStats::route(std::uint32_t slot) {
  if (slot == kNoSlot || slot >= kChunk * kMaxChunks) return nullptr;
  auto& chunkPtr = chunks_[slot / kChunk];
  Chunk* chunk = chunkPtr.load(std::memory_order_relaxed);
  if (!chunk) {
    chunk = new Chunk();
    for (auto& e : *chunk) e.store(nullptr, std::memory_order_relaxed);
    chunkPtr.store(chunk, std::memory_order_release);
  }
  auto& entry = (*chunk)[slot % kChunk];
  EntityShard* shard = entry.load(std::memory_order_relaxed);
  if (!shard) {
    shard = new EntityShard(slot);
    entry.store(shard, std::memory_order_release);
  }
  return shard;
}

EntityShard* WorkerStats::peekRoute(std::uint32_t slot) const {
  if (slot == kNoSlot || slot >= kChunk * kMaxChunks) return nullptr;
  Chunk* chunk = chunks_[slot / kChunk].load(std::memory_order_acquire);
  if (!chunk) return nullptr;
  return (*chunk)[slot % kChunk].load(std::memory_order_acquire);
}

}  // namespace archway::metrics
