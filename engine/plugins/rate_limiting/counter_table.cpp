#include "plugins/rate_limiting/counter_table.h"

#include <bit>
#include <thread>

namespace archway::plugins::ratelimit {
namespace {

constexpr std::uint64_t kCountMask = 0xffffffffu;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// A slot is `busy` only for the three stores of a claim; wait them out.
std::uint64_t waitWhileBusy(const std::atomic<std::uint64_t>& key) {
  std::uint64_t k = key.load(std::memory_order_acquire);
  for (int spins = 0; k == 1; ++spins) {
    if (spins > 64) std::this_thread::yield();
    k = key.load(std::memory_order_acquire);
  }
  return k;
}

}  // namespace

std::uint64_t hashBytes(std::uint64_t seed, const void* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ull ^ mix(seed);
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return mix(h ^ size);
}

CounterTable::CounterTable(std::size_t slots) {
  std::size_t n = std::bit_ceil(slots < kMaxProbe ? kMaxProbe : slots);
  slots_ = std::make_unique<Slot[]>(n);
  mask_ = n - 1;
}

CounterTable::Slot* CounterTable::find(std::uint64_t key) const {
  const std::uint64_t k = slotKey(key);
  const std::size_t home = static_cast<std::size_t>(mix(k)) & mask_;
  for (std::size_t i = 0; i < kMaxProbe; ++i) {
    Slot& s = slots_[(home + i) & mask_];
    const std::uint64_t seen = waitWhileBusy(s.key);
    if (seen == k) return &s;
    if (seen == kEmpty) return nullptr;  // keys are never removed, so the chain ends here
  }
  return nullptr;
}

CounterTable::Slot* CounterTable::findOrClaim(std::uint64_t key, std::int64_t reusableAfter,
                                              std::int64_t nowSec) {
  const std::uint64_t k = slotKey(key);
  const std::size_t home = static_cast<std::size_t>(mix(k)) & mask_;
  // A lost claim race means someone else changed a slot of this chain: look again. Bounded so
  // a pathological fight ends in "full" rather than a spin.
  for (int attempt = 0; attempt < 16; ++attempt) {
    Slot* candidate = nullptr;
    for (std::size_t i = 0; i < kMaxProbe; ++i) {
      Slot& s = slots_[(home + i) & mask_];
      const std::uint64_t seen = waitWhileBusy(s.key);
      if (seen == k) return &s;
      if (seen == kEmpty) {
        if (!candidate) candidate = &s;
        break;
      }
      // The whole chain is looked at before reusing an idle slot, so a key further on is
      // found rather than duplicated.
      if (!candidate && s.reusable.load(std::memory_order_relaxed) < nowSec) candidate = &s;
    }
    if (!candidate) return nullptr;
    std::uint64_t expected = candidate->key.load(std::memory_order_acquire);
    if (expected == kBusy || expected == k) continue;
    if (expected != kEmpty && candidate->reusable.load(std::memory_order_relaxed) >= nowSec)
      continue;  // it came back to life meanwhile
    if (!candidate->key.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel))
      continue;
    candidate->state.store(0, std::memory_order_relaxed);
    candidate->reusable.store(reusableAfter, std::memory_order_relaxed);
    candidate->key.store(k, std::memory_order_release);
    return candidate;
  }
  return nullptr;
}

CounterTable::Take CounterTable::take(std::uint64_t key, std::int64_t windowStart,
                                      std::int64_t windowEnd, double limit, std::int64_t nowSec) {
  const std::int64_t reusableAfter = windowEnd + kGraceSeconds;
  Slot* s = findOrClaim(key, reusableAfter, nowSec);
  if (!s) return {false, true, 0};
  const auto mine = static_cast<std::uint32_t>(windowStart);
  std::uint64_t cur = s->state.load(std::memory_order_acquire);
  for (;;) {
    const auto window = static_cast<std::uint32_t>(cur >> 32);
    std::uint64_t count = cur & kCountMask;
    std::uint32_t use = window;
    // An older window is over: this request starts the new one. A newer one (another thread
    // read the clock a moment later) is the current one for us too.
    if (window < mine) {
      use = mine;
      count = 0;
    }
    // Kong stops when `limit - usage <= 0`. A count at 2^32-1 cannot grow and refuses too.
    if (static_cast<double>(count) >= limit || count == kCountMask) return {false, false, count};
    const std::uint64_t next = (std::uint64_t{use} << 32) | (count + 1);
    if (s->state.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      if (use != window) {
        std::int64_t r = s->reusable.load(std::memory_order_relaxed);
        while (r < reusableAfter &&
               !s->reusable.compare_exchange_weak(r, reusableAfter, std::memory_order_relaxed)) {
        }
      }
      return {true, false, count};
    }
  }
}

void CounterTable::untake(std::uint64_t key, std::int64_t windowStart) {
  Slot* s = find(key);
  if (!s) return;
  const auto mine = static_cast<std::uint32_t>(windowStart);
  std::uint64_t cur = s->state.load(std::memory_order_acquire);
  for (;;) {
    const auto window = static_cast<std::uint32_t>(cur >> 32);
    const std::uint64_t count = cur & kCountMask;
    if (window != mine || count == 0) return;  // the window moved on: nothing to give back
    if (s->state.compare_exchange_weak(cur, cur - 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
      return;
  }
}

std::uint64_t CounterTable::peek(std::uint64_t key, std::int64_t windowStart) const {
  const Slot* s = find(key);
  if (!s) return 0;
  const std::uint64_t cur = s->state.load(std::memory_order_acquire);
  const auto window = static_cast<std::uint32_t>(cur >> 32);
  return window >= static_cast<std::uint32_t>(windowStart) ? (cur & kCountMask) : 0;
}

}  // namespace archway::plugins::ratelimit
