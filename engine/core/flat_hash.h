#pragma once
// Hash sets and maps keyed by string views (or pairs of them) for indexes over 10^5 entities:
// open addressing with linear probing in one array, each slot keeping its key's hash, so an
// insert allocates nothing (std::unordered_map allocates a node per element), a lookup reads
// one run of slots and compares a string only when the hashes match, and freeing is one
// deallocation. The strings viewed must outlive the map; there is no erase.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace archway::core {

template <class Key, class Value>
class FlatMap {
 public:
  explicit FlatMap(std::size_t expected = 0) { reserve(expected); }

  // Room for `n` keys without rehashing.
  void reserve(std::size_t n) {
    if (n * 10 > slots_.size() * 7) rehash(n * 10 / 7 + 1);
  }
  // Inserts `value` under `key` unless the key is there: the value under the key, and whether
  // it was inserted.
  std::pair<Value*, bool> emplace(const Key& key, Value value) {
    if ((size_ + 1) * 10 > slots_.size() * 7) rehash(std::max<std::size_t>(16, slots_.size() * 2));
    const std::size_t h = hashOf(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        s = Slot{key, std::move(value), h};
        ++size_;
        return {&s.value, true};
      }
      if (s.hash == h && s.key == key) return {&s.value, false};
    }
  }
  const Value* find(const Key& key) const {
    if (size_ == 0) return nullptr;
    const std::size_t h = hashOf(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == h && s.key == key) return &s.value;
    }
  }
  bool contains(const Key& key) const { return find(key) != nullptr; }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    Key key{};
    [[no_unique_address]] Value value{};
    std::size_t hash = 0;  // 0: empty (hashOf never returns 0)
  };
  static std::size_t mix(std::size_t h) { return h == 0 ? 1 : h; }
  static std::size_t hashOf(std::string_view v) { return mix(std::hash<std::string_view>{}(v)); }
  static std::size_t hashOf(const std::pair<std::string_view, std::string_view>& p) {
    const std::size_t a = std::hash<std::string_view>{}(p.first);
    return mix(a ^ (std::hash<std::string_view>{}(p.second) + 0x9e3779b97f4a7c15ULL + (a << 6) +
                    (a >> 2)));
  }
  // To the next power of two of at least `atLeast` slots.
  void rehash(std::size_t atLeast) {
    std::size_t capacity = 16;
    while (capacity < atLeast) capacity *= 2;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (Slot& s : old) {
      if (s.hash == 0) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].hash != 0) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

template <class Key>
class FlatSet {
 public:
  explicit FlatSet(std::size_t expected = 0) : map_(expected) {}
  // True when `key` was not in the set yet.
  bool insert(const Key& key) { return map_.emplace(key, {}).second; }
  bool contains(const Key& key) const { return map_.contains(key); }
  std::size_t size() const { return map_.size(); }

 private:
  struct None {};
  FlatMap<Key, None> map_;
};

using ViewSet = FlatSet<std::string_view>;
using ViewPairSet = FlatSet<std::pair<std::string_view, std::string_view>>;

}  // namespace archway::core
