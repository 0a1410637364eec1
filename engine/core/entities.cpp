#include "core/entities.h"

namespace archway::core {

const Service* Config::findService(const std::string& idOrName) const {
  for (const auto& s : services) {
    if (s.id == idOrName || (s.name && *s.name == idOrName)) return &s;
  }
  return nullptr;
}

const Upstream* Config::findUpstream(const std::string& idOrName) const {
  for (const auto& u : upstreams) {
    if (u.id == idOrName || u.name == idOrName) return &u;
  }
  return nullptr;
}

const Consumer* Config::findConsumer(const std::string& idOrUsername) const {
  for (const auto& c : consumers) {
    if (c.id == idOrUsername || (c.username && *c.username == idOrUsername)) return &c;
  }
  return nullptr;
}

}  // namespace archway::core
