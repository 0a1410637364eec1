#include "trace/trace_store.h"

#include <array>
#include <cstring>

namespace archway::trace {
namespace {
constexpr std::size_t kWords = (sizeof(FinishedTrace) + 7) / 8;
}  // namespace

// The seqlock's data are atomics too, so a reader racing a writer is not undefined behaviour
// (and ThreadSanitizer agrees); relaxed word stores cost the same as plain ones on x86/ARM.
struct alignas(64) TraceStore::Slot {
  std::atomic<std::uint64_t> seq{0};     // odd while a writer owns the slot
  std::atomic<std::uint64_t> ticket{0};  // ticket + 1 of the trace in the slot; 0: never written
  std::array<std::atomic<std::uint64_t>, kWords> words{};
};

TraceStore::TraceStore(std::size_t capacity)
    : capacity_(capacity ? capacity : 1), slots_(new Slot[capacity_]) {}

TraceStore::~TraceStore() = default;

bool TraceStore::push(const FinishedTrace& trace) {
  const std::uint64_t t = next_.fetch_add(1, std::memory_order_relaxed);
  Slot& s = slots_[t % capacity_];
  std::uint64_t seq = s.seq.load(std::memory_order_relaxed);
  if ((seq & 1) != 0 || !s.seq.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire,
                                                       std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // A writer that was preempted for a whole lap of the ring must not replace a newer trace.
  if (s.ticket.load(std::memory_order_relaxed) > t + 1) {
    s.seq.store(seq + 2, std::memory_order_release);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Orders the odd sequence number before the data stores for a reader that sees any of them.
  std::atomic_thread_fence(std::memory_order_release);
  s.ticket.store(t + 1, std::memory_order_relaxed);
  const auto* bytes = reinterpret_cast<const unsigned char*>(&trace);
  for (std::size_t i = 0; i < kWords; ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes + 8 * i, std::min<std::size_t>(8, sizeof(FinishedTrace) - 8 * i));
    s.words[i].store(w, std::memory_order_relaxed);
  }
  s.seq.store(seq + 2, std::memory_order_release);
  return true;
}

bool TraceStore::read(std::uint64_t ticket, FinishedTrace& out) const {
  const Slot& s = slots_[ticket % capacity_];
  const std::uint64_t before = s.seq.load(std::memory_order_acquire);
  if ((before & 1) != 0 || s.ticket.load(std::memory_order_relaxed) != ticket + 1) return false;
  auto* bytes = reinterpret_cast<unsigned char*>(&out);
  for (std::size_t i = 0; i < kWords; ++i) {
    const std::uint64_t w = s.words[i].load(std::memory_order_relaxed);
    std::memcpy(bytes + 8 * i, &w, std::min<std::size_t>(8, sizeof(FinishedTrace) - 8 * i));
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  return s.seq.load(std::memory_order_relaxed) == before;
}

template <class Visit>
void TraceStore::scan(Visit&& visit) const {
  const std::uint64_t end = next_.load(std::memory_order_acquire);
  const std::uint64_t begin = end > capacity_ ? end - capacity_ : 0;
  auto scratch = std::make_unique<FinishedTrace>();
  for (std::uint64_t t = end; t-- > begin;) {
    if (read(t, *scratch) && !visit(*scratch)) return;
  }
}

bool TraceStore::matches(const FinishedTrace& t, const TraceQuery& q) {
  if (!q.route.empty() && t.routeName.view() != q.route && t.routeId.view() != q.route) {
    return false;
  }
  if (q.status != 0 && t.status != q.status) return false;
  if (q.statusClass != 0 && t.status / 100 != q.statusClass) return false;
  return t.durationUs >= q.minUs;
}

std::vector<FinishedTrace> TraceStore::recent(const TraceQuery& q) const {
  std::vector<FinishedTrace> out;
  if (q.limit == 0) return out;
  scan([&](const FinishedTrace& t) {
    if (matches(t, q)) out.push_back(t);
    return out.size() < q.limit;
  });
  return out;
}

std::optional<FinishedTrace> TraceStore::byId(const TraceId& id) const {
  std::optional<FinishedTrace> found;
  scan([&](const FinishedTrace& t) {
    if (t.traceId != id) return true;
    found = t;
    return false;
  });
  return found;
}

}  // namespace archway::trace
