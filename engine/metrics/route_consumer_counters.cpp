#include "metrics/route_consumer_counters.h"

namespace archway::metrics {
namespace {

constexpr std::size_t kFirstCapacity = 256;

// Fibonacci hashing: the key's fields sit in separate bit ranges, the multiply spreads them and
// the fold brings the well-mixed high bits down to where the table mask looks.
std::size_t hashOf(std::uint64_t key) {
  const std::uint64_t h = key * 0x9e3779b97f4a7c15ull;
  return static_cast<std::size_t>(h ^ (h >> 32));
}

void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

RouteConsumerCounters::Table::Table(std::size_t capacity)
    : mask(capacity - 1), cells(std::make_unique<Slot[]>(capacity)) {}

RouteConsumerCounters::RouteConsumerCounters()
    : first_(std::make_unique<Table>(kFirstCapacity)), last_(first_.get()) {}

RouteConsumerCounters::~RouteConsumerCounters() {
  Table* t = first_->next.load(std::memory_order_relaxed);
  while (t) {
    Table* next = t->next.load(std::memory_order_relaxed);
    delete t;
    t = next;
  }
}

// The slot holding `key`, made when new; null when the table may not grow any more.
RouteConsumerCounters::Slot* RouteConsumerCounters::find(std::uint64_t key) {
  const std::size_t h = hashOf(key);
  for (Table* t = first_.get(); t; t = t->next.load(std::memory_order_relaxed)) {
    for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
      const std::uint64_t k = t->cells[i].key.load(std::memory_order_relaxed);
      if (k == key) return &t->cells[i];
      if (k == 0) break;  // not in this table (tables are at most half full)
    }
  }
  if (entries_ >= kMaxEntries) return nullptr;
  if (2 * (last_->used + 1) > last_->mask + 1) {
    auto* grown = new Table(2 * (last_->mask + 1));
    last_->next.store(grown, std::memory_order_release);
    last_ = grown;
  }
  std::size_t i = h & last_->mask;
  while (last_->cells[i].key.load(std::memory_order_relaxed) != 0) i = (i + 1) & last_->mask;
  // The counters are zero; publishing the key makes the entry visible to the reader.
  last_->cells[i].key.store(key, std::memory_order_release);
  ++last_->used;
  ++entries_;
  return &last_->cells[i];
}

void RouteConsumerCounters::record(std::uint32_t routeSlot, std::uint32_t consumer, int status,
                                   std::uint64_t bytesIn, std::uint64_t bytesOut) {
  const auto code = static_cast<std::uint64_t>(status >= 0 && status < 1000 ? status : 0);
  const std::uint64_t key = kUsed | static_cast<std::uint64_t>(routeSlot & 0x7fffffff) << 32 |
                            static_cast<std::uint64_t>(consumer & 0x3fffff) << 10 | code;
  Slot* s = key == lastKey_ ? lastSlot_ : find(key);
  if (!s) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  lastKey_ = key;
  lastSlot_ = s;
  bump(s->requests, 1);
  bump(s->bytesIn, bytesIn);
  bump(s->bytesOut, bytesOut);
}

}  // namespace archway::metrics
