#include "core/entities.h"

namespace archway::core {

const Service* Config::findService(const std::string& idOrName) const {
  for (const auto& s : services) {
    if (s.id == idOrName || (s.name && *s.name == idOrName)) return &s;
  }
  return nullptr;
}

}  // namespace archway::core
