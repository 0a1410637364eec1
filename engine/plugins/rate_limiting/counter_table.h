#pragma once
// The node-wide counters of the `local` policy: what Kong keeps in its
// kong_rate_limiting_counters shared dict, without a lock. A fixed-size open-addressing table
// of atomics, shared by every worker and every rate-limiting instance of the node (the plugin
// id is part of each key), kept across config reloads (CompileEnv::persistent()).
//
// Each slot is one counter of one (plugin, identifier, period): its key (a 64-bit hash), and
// one atomic word holding the window start and the count in that window. Taking a request is
// a compare-and-swap on that word, so the count never passes the limit, whatever the number
// of threads, and a new window replaces the old count in the same atomic step (no separate
// reset to race with).
//
// Memory is fixed: a slot whose window ended more than kGraceSeconds ago is reused for
// another key. When every slot of a key's probe range is live the table is full for that key
// and take() says so (the caller lets the request through, as Kong's fault_tolerant would).
#include <atomic>
#include <cstdint>
#include <memory>

namespace archway::plugins::ratelimit {

class CounterTable {
 public:
  static constexpr std::size_t kDefaultSlots = std::size_t{1} << 18;  // 6 MiB
  static constexpr std::size_t kMaxProbe = 64;
  static constexpr std::int64_t kGraceSeconds = 10;

  explicit CounterTable(std::size_t slots = kDefaultSlots);  // rounded up to a power of two
  CounterTable(const CounterTable&) = delete;
  CounterTable& operator=(const CounterTable&) = delete;

  struct Take {
    bool taken = false;       // counted: the request fits the limit
    bool full = false;        // no slot for this key (not counted)
    std::uint64_t prior = 0;  // requests already counted in this window before this one
  };

  // Counts one request for `key` in the window [windowStart, windowEnd) if fewer than `limit`
  // were counted there. `nowSec` decides which idle slots may be reused.
  Take take(std::uint64_t key, std::int64_t windowStart, std::int64_t windowEnd, double limit,
            std::int64_t nowSec);
  // Gives back a request take() counted (another period of the same request refused it).
  void untake(std::uint64_t key, std::int64_t windowStart);
  // Requests counted for `key` in that window, without counting.
  std::uint64_t peek(std::uint64_t key, std::int64_t windowStart) const;

  std::size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    std::atomic<std::uint64_t> key{0};      // kEmpty, kBusy or a key (>= 2)
    std::atomic<std::uint64_t> state{0};    // window start (high 32 bits) | count (low 32 bits)
    std::atomic<std::int64_t> reusable{0};  // may be given to another key after this second
  };
  static constexpr std::uint64_t kEmpty = 0, kBusy = 1;

  static std::uint64_t slotKey(std::uint64_t key) { return key < 2 ? key + 2 : key; }
  Slot* find(std::uint64_t key) const;
  Slot* findOrClaim(std::uint64_t key, std::int64_t reusableAfter, std::int64_t nowSec);

  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_ = 0;
};

// A 64-bit hash of bytes (FNV-1a with a strong final mix), for building counter keys.
std::uint64_t hashBytes(std::uint64_t seed, const void* data, std::size_t size);

}  // namespace archway::plugins::ratelimit
