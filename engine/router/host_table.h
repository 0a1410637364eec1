#pragma once
// An immutable, case-insensitive (ASCII) hash map from host names to 32-bit ids, looked up
// straight from the request's Host bytes without lower-casing them into a copy. The hash runs
// from the last byte to the first, so one backward pass over a host yields the hash of every
// suffix: that is how suffix wildcards ("*.example.com") are found, one probe per dot.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace archway::router {

inline unsigned char asciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

class HostTable {
 public:
  static constexpr std::uint32_t kNotFound = 0xffffffffu;
  static constexpr std::uint64_t kHashSeed = 1469598103934665603ull;  // FNV-1a offset basis

  // Extends the hash of the bytes after `c` by `c` (the backward direction).
  static std::uint64_t hashPrepend(std::uint64_t hash, unsigned char c) {
    return (hash ^ asciiLower(c)) * 1099511628211ull;
  }
  static std::uint64_t hash(std::string_view s) {
    std::uint64_t h = kHashSeed;
    for (std::size_t i = s.size(); i-- > 0;) h = hashPrepend(h, static_cast<unsigned char>(s[i]));
    return h;
  }

  HostTable() = default;
  // Keys must be distinct after lower-casing.
  explicit HostTable(const std::vector<std::pair<std::string, std::uint32_t>>& entries);

  bool empty() const { return size_ == 0; }

  // `hash` is hash(key); callers that walk suffixes pass the running value.
  std::uint32_t find(std::string_view key, std::uint64_t hash) const {
    if (size_ == 0) return kNotFound;
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNotFound) return kNotFound;
      if (s.hash == hash && s.keyLength == key.size() && equalsLower(key, s.keyBegin))
        return s.value;
    }
  }
  std::uint32_t find(std::string_view key) const { return find(key, hash(key)); }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t keyBegin = 0;
    std::uint32_t keyLength = 0;
    std::uint32_t value = kNotFound;  // kNotFound marks an empty slot
  };

  bool equalsLower(std::string_view key, std::uint32_t begin) const {
    const char* k = keys_.data() + begin;
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (asciiLower(static_cast<unsigned char>(key[i])) != static_cast<unsigned char>(k[i]))
        return false;
    }
    return true;
  }

  std::vector<Slot> slots_;
  std::string keys_;  // lower-case keys, back to back
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace archway::router
