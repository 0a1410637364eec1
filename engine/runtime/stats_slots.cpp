#include "runtime/stats_slots.h"

namespace archway::runtime {

std::uint32_t StatsSlots::slotOf(Map& map, std::string_view key) {
  if (auto it = map.find(key); it != map.end()) return it->second;
  return map.emplace(std::string(key), next_++).first->second;
}

std::vector<std::uint32_t> StatsSlots::consumers(const std::vector<core::Consumer>& consumers,
                                                 const std::vector<std::uint32_t>* earlier,
                                                 const core::KindDelta* delta) {
  const bool reuse = earlier && delta && delta->beforeSize == earlier->size() &&
                     delta->afterSize == consumers.size();
  std::vector<std::uint32_t> out;
  out.reserve(consumers.size());
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    const std::size_t before = reuse ? delta->beforeIndex(i) : core::KindDelta::npos;
    out.push_back(before != core::KindDelta::npos ? (*earlier)[before] : consumer(consumers[i].id));
  }
  return out;
}

}  // namespace archway::runtime
