#include "router/host_table.h"

namespace archway::router {

HostTable::HostTable(const std::vector<std::pair<std::string, std::uint32_t>>& entries) {
  if (entries.empty()) return;
  // At most half full keeps probe sequences short.
  std::size_t capacity = 4;
  while (capacity < entries.size() * 2) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  for (const auto& [key, value] : entries) {
    std::uint64_t h = hash(key);
    std::size_t i = h & mask_;
    while (slots_[i].value != kNotFound) i = (i + 1) & mask_;
    slots_[i].hash = h;
    slots_[i].keyBegin = static_cast<std::uint32_t>(keys_.size());
    slots_[i].keyLength = static_cast<std::uint32_t>(key.size());
    slots_[i].value = value;
    for (char c : key) keys_ += static_cast<char>(asciiLower(static_cast<unsigned char>(c)));
  }
  size_ = entries.size();
}

}  // namespace archway::router
