#pragma once
// Plugin chains, resolved once per config snapshot (architecture.md "Plugin chains"): for
// every route, the plugins that apply to it in Kong's priority order, each with the instance
// Kong's scoping precedence picks. The request path walks a flat array.
//
// Kong's precedence, most specific first: consumer+route+service, consumer+route,
// consumer+service, route+service, consumer, route, service, global. The consumer is known
// only once an auth plugin ran, so each entry keeps the instance to use without a consumer
// (`base`) and the consumer-scoped instances more specific than it.
#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/entities.h"
#include "core/result.h"
#include "plugins/plugin.h"

namespace archway::plugins {

struct ChainEntry {
  const Factory* factory = nullptr;
  const Instance* base = nullptr;  // may be null: only consumer-scoped instances apply
  std::vector<std::pair<std::string, const Instance*>> byConsumer;  // consumer id -> instance
  std::uint8_t phases = 0;                                          // union over candidates
  std::uint32_t timingSlot = 0;  // index into CompiledPlugins::timingSlots()
  // Trace span names per phase (rewrite, access, header_filter, body_filter, log).
  std::array<std::string_view, 5> spanNames{};

  // The instance for this request: the consumer's own when there is one, else `base`.
  const Instance* select(const core::Consumer* consumer) const {
    if (consumer && !byConsumer.empty()) {
      for (const auto& [id, inst] : byConsumer) {
        if (id == consumer->id) return inst;
      }
    }
    return base;
  }
};

struct Chain {
  std::vector<ChainEntry> entries;  // descending priority
  std::uint8_t phases = 0;
  bool needsRequestBody = false;
  bool needsResponseBody = false;
  bool asyncAccess = false;
  bool needsUriCaptures = false;  // some plugin reads Context::uriCaptures
  bool empty() const { return entries.empty(); }
};

class CompiledPlugins {
 public:
  // Compiles every enabled plugin entity that runs on http/https and resolves the chain of
  // each route (by position in config.routes). Errors name the entity ("plugins[3].config.x").
  // `lookup` finds a factory by name (the registry's find() by default; tests pass their own).
  using Lookup = const Factory* (*)(std::string_view name);
  static core::Result<std::shared_ptr<const CompiledPlugins>> build(const core::Config& config,
                                                                     Persistent& persistent,
                                                                     int workerCount,
                                                                     Lookup lookup = nullptr);

  const Chain& forRoute(std::size_t routeIndex) const {
    return routeIndex < chains_.size() ? chains_[routeIndex] : empty_;
  }
  // Global plugins only: for requests that matched no route.
  const Chain& global() const { return global_; }
  bool any() const { return !instances_.empty(); }

  // What each timing slot measures (per-plugin latency stats).
  struct TimingSlot {
    std::string routeId;
    std::string plugin;
  };
  const std::vector<TimingSlot>& timingSlots() const { return slots_; }

 private:
  std::vector<std::shared_ptr<const Instance>> instances_;
  std::vector<Chain> chains_;
  Chain global_, empty_;
  std::vector<TimingSlot> slots_;
};

// Checks a plugin entity's name and config against its schema and returns the config with
// defaults filled, as canonical JSON text (what core::Plugin::config holds). `pathPrefix`
// names the config in errors ("plugins[0].config"); an unknown name is an error on the
// sibling "name" field.
core::Result<std::string> validateConfig(const std::string& name, const boost::json::value& config,
                                         const std::string& pathPrefix, bool coerceStrings);

}  // namespace archway::plugins
