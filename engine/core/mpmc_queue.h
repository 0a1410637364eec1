#pragma once
// A bounded multi-producer multi-consumer queue after Dmitry Vyukov's design: a ring of slots,
// each with a sequence number saying whether it is free for the producer holding ticket N or
// holds the value for the consumer of ticket N. Producers claim a ticket with one CAS on the
// enqueue position and never wait on each other's locks: when the ring is full, tryPush fails
// at once (the caller drops and counts). Values are moved in and out; no allocation after
// construction.
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace archway::core {

template <class T>
class MpmcQueue {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit MpmcQueue(std::size_t capacity)
      : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1),
        slots_(std::make_unique<Slot[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpmcQueue(const MpmcQueue&) = delete;
  MpmcQueue& operator=(const MpmcQueue&) = delete;

  std::size_t capacity() const { return mask_ + 1; }

  // Any thread. False when the ring is full; `value` is then left as it was.
  bool tryPush(T& value) {
    std::uint64_t pos = enqueue_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      const std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - pos);
      if (diff == 0) {
        if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // the slot still holds the value of ticket pos - capacity: full
      } else {
        pos = enqueue_.load(std::memory_order_relaxed);
      }
    }
    slot->value = std::move(value);
    slot->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Any thread. False when empty, or when the oldest claimed slot's producer has not finished
  // writing it yet (it will be readable in a moment).
  bool tryPop(T& out) {
    std::uint64_t pos = dequeue_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      const std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - (pos + 1));
      if (diff == 0) {
        if (dequeue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;
      } else {
        pos = dequeue_.load(std::memory_order_relaxed);
      }
    }
    out = std::move(slot->value);
    slot->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  // Whether the next pop would find a value. The caller orders it (a fence) as it needs.
  bool readable() const {
    const std::uint64_t pos = dequeue_.load(std::memory_order_relaxed);
    return slots_[pos & mask_].seq.load(std::memory_order_relaxed) == pos + 1;
  }

  // Tickets handed out to producers so far: every accepted push, finished or not.
  std::uint64_t pushed() const { return enqueue_.load(std::memory_order_acquire); }
  // Values taken out so far.
  std::uint64_t popped() const { return dequeue_.load(std::memory_order_acquire); }

 private:
  struct Slot {
    std::atomic<std::uint64_t> seq{0};
    T value{};
  };
  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::uint64_t> enqueue_{0};
  alignas(64) std::atomic<std::uint64_t> dequeue_{0};
};

}  // namespace archway::core
