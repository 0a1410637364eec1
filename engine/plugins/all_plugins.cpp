// The one explicit list of the plugins this build has. To add a plugin: its folder under
// engine/plugins/ (listed in ARCHWAY_PLUGIN_DIRS), its header here and one line in kMakers.
#include <memory>

#include "plugins/registry.h"
// ---- plugin headers (one line each, keep sorted) ----
// ---- end of plugin headers ----

namespace archway::plugins {
namespace {

using Maker = std::unique_ptr<Factory> (*)();

// ---- plugin makers (one line each) ----
constexpr Maker kMakers[] = {
    nullptr,  // keeps the list valid while it is empty; skipped below
};
// ---- end of plugin makers ----

std::vector<std::unique_ptr<Factory>>& owned() {
  static std::vector<std::unique_ptr<Factory>> factories = [] {
    std::vector<std::unique_ptr<Factory>> v;
    for (Maker m : kMakers) {
      if (m) v.push_back(m());
    }
    return v;
  }();
  return factories;
}

}  // namespace

const std::vector<const Factory*>& all() {
  static const std::vector<const Factory*> list = [] {
    std::vector<const Factory*> v;
    for (const auto& f : owned()) v.push_back(f.get());
    return v;
  }();
  return list;
}

const Factory* find(std::string_view name) {
  for (const Factory* f : all()) {
    if (f->name() == name) return f;
  }
  return nullptr;
}

}  // namespace archway::plugins
