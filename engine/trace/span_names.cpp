#include "trace/span_names.h"

#include <mutex>
#include <string>
#include <unordered_set>

namespace archway::trace {
namespace {

struct Interner {
  std::mutex mu;
  // Node-based: an element (and so the characters of a short, inline string) never moves.
  std::unordered_set<std::string> names;
};

Interner& interner() {
  // Never destroyed: traces in a store may be rendered while statics are torn down.
  static Interner* i = new Interner;
  return *i;
}

}  // namespace

std::string_view intern(std::string_view name) {
  auto& in = interner();
  std::lock_guard lock(in.mu);
  return *in.names.emplace(name).first;
}

std::string_view pluginSpanName(std::string_view plugin, std::string_view phase) {
  std::string name;
  name.reserve(8 + plugin.size() + phase.size());
  name.append("plugin ").append(plugin).append(" ").append(phase);
  return intern(name);
}

}  // namespace archway::trace
