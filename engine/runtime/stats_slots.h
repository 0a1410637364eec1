#pragma once
// Stats slots: the number under which the workers count a route, a consumer, a plugin's timing
// on a route or an upstream target. An entity keeps its slot across reloads (found by id), so
// its counters carry over; numbers are never reused. The engine's snapshot builds use one
// instance, under its applyMutex.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config_delta.h"
#include "core/entities.h"

namespace archway::runtime {

class StatsSlots {
 public:
  std::uint32_t route(std::string_view id) { return slotOf(routes_, id); }
  std::uint32_t consumer(std::string_view id) { return slotOf(consumers_, id); }
  // "<route id>:<plugin name>"
  std::uint32_t plugin(std::string_view key) { return slotOf(plugins_, key); }
  // "<upstream id>:<host:port>"
  std::uint32_t target(std::string_view key) { return slotOf(targets_, key); }

  // The slot of each of `consumers`. With the slots given for the consumers of an earlier
  // config and the delta from that config to this one, a consumer the delta shows unchanged
  // takes its earlier slot without a lookup: a write on a config of 10^5 consumers looks up
  // the few it changed.
  std::vector<std::uint32_t> consumers(const std::vector<core::Consumer>& consumers,
                                       const std::vector<std::uint32_t>* earlier = nullptr,
                                       const core::KindDelta* delta = nullptr);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>>;
  std::uint32_t slotOf(Map& map, std::string_view key);

  Map routes_, consumers_, plugins_, targets_;
  std::uint32_t next_ = 0;
};

}  // namespace archway::runtime
