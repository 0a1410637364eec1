#pragma once
// Requests and bytes by (route, consumer, status code): what Kong's prometheus plugin labels
// with `consumer` when per_consumer is on (kong_http_requests_total, kong_bandwidth_bytes). One
// per worker: the worker is the only writer (relaxed single-writer counters, no lock); the
// stats thread reads every worker's counters and sums them (cumulative since start, so no
// deltas are kept).
//
// Storage is a chain of open-addressing tables: when the newest is half full, a twice larger
// one is appended, so entries never move and the reader walks them while the worker writes.
// Keys are bounded: the consumer is one of the worker's capped consumer shards
// (WorkerStats::maxConsumers, default 1,000; the rest share kOtherConsumer), and the table stops
// growing at kMaxEntries, after which new keys are counted in dropped() instead.
#include <atomic>
#include <cstdint>
#include <memory>

namespace archway::metrics {

class RouteConsumerCounters {
 public:
  static constexpr std::uint32_t kNoConsumer = 0;     // no consumer (or none identified)
  static constexpr std::uint32_t kOtherConsumer = 1;  // past the worker's consumer cap
  // Consumer slots are stored as slot + 2.
  static std::uint32_t consumerKey(std::uint32_t slot) { return slot + 2; }
  static constexpr std::size_t kMaxEntries = 1u << 17;

  RouteConsumerCounters();
  ~RouteConsumerCounters();
  RouteConsumerCounters(const RouteConsumerCounters&) = delete;
  RouteConsumerCounters& operator=(const RouteConsumerCounters&) = delete;

  // Worker thread only. `consumer` is kNoConsumer, kOtherConsumer or consumerKey(slot); status
  // codes outside 0..999 count as 0. Allocates only when a table is added.
  void record(std::uint32_t routeSlot, std::uint32_t consumer, int status, std::uint64_t bytesIn,
              std::uint64_t bytesOut);

  struct Entry {
    std::uint32_t routeSlot = 0, consumer = 0;
    int status = 0;
    std::uint64_t requests = 0, bytesIn = 0, bytesOut = 0;
  };
  // Any thread: calls f(const Entry&) for every key recorded so far.
  template <class F>
  void forEach(F&& f) const {
    for (const Table* t = first_.get(); t; t = t->next.load(std::memory_order_acquire)) {
      for (std::size_t i = 0; i <= t->mask; ++i) {
        const Slot& s = t->cells[i];
        const std::uint64_t key = s.key.load(std::memory_order_acquire);
        if (!key) continue;
        Entry e;
        e.routeSlot = static_cast<std::uint32_t>(key >> 32) & 0x7fffffff;
        e.consumer = static_cast<std::uint32_t>(key >> 10) & 0x3fffff;
        e.status = static_cast<int>(key & 0x3ff);
        e.requests = s.requests.load(std::memory_order_relaxed);
        e.bytesIn = s.bytesIn.load(std::memory_order_relaxed);
        e.bytesOut = s.bytesOut.load(std::memory_order_relaxed);
        f(e);
      }
    }
  }
  // Requests not counted because the table was full (any thread).
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<std::uint64_t> key{0};  // 0: free; else kUsed | route << 32 | consumer << 10 | code
    std::atomic<std::uint64_t> requests{0}, bytesIn{0}, bytesOut{0};
  };
  struct Table {
    explicit Table(std::size_t capacity);
    std::size_t mask;
    std::unique_ptr<Slot[]> cells;
    std::size_t used = 0;  // worker-owned
    std::atomic<Table*> next{nullptr};
  };
  static constexpr std::uint64_t kUsed = 1ull << 63;
  Slot* find(std::uint64_t key);

  std::unique_ptr<Table> first_;
  Table* last_;                // worker-owned
  std::size_t entries_ = 0;    // worker-owned
  std::uint64_t lastKey_ = 0;  // worker-owned: consecutive requests often share their key
  Slot* lastSlot_ = nullptr;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace archway::metrics
