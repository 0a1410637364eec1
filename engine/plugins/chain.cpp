#include "plugins/chain.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "plugins/registry.h"
#include "trace/span_names.h"

namespace archway::plugins {
namespace {

bool runsOnHttp(const core::Plugin& p) {
  for (const auto& proto : p.protocols) {
    if (proto == "http" || proto == "https") return true;
  }
  return false;
}

// Kong's precedence rank for a plugin attached as given; lower wins.
int rank(const core::Plugin& p) {
  const bool c = p.consumerId.has_value(), r = p.routeId.has_value(), s = p.serviceId.has_value();
  if (c && r && s) return 0;
  if (c && r) return 1;
  if (c && s) return 2;
  if (r && s) return 3;
  if (c) return 4;
  if (r) return 5;
  if (s) return 6;
  return 7;
}

std::string pathOf(const core::Plugin&, std::size_t index) {
  return "plugins[" + std::to_string(index) + "]";
}

}  // namespace

core::Result<std::string> validateConfig(const std::string& name, const boost::json::value& config,
                                         const std::string& pathPrefix, bool coerceStrings) {
  const Factory* f = find(name);
  if (!f) {
    std::string base = pathPrefix;
    if (auto dot = base.rfind('.'); dot != std::string::npos) {
      base = base.substr(0, dot + 1) + "name";
    } else {
      base = "name";
    }
    return core::Error{base, "plugin '" + name + "' not enabled; add it to the 'plugins' configuration property"};
  }
  schema::ValidateOptions opts;
  opts.coerceStrings = coerceStrings;
  opts.pathPrefix = pathPrefix;
  auto v = schema::validate(f->schema(), config, opts);
  if (!v) return v.errors();
  return boost::json::serialize(*v);
}

core::Result<std::shared_ptr<const CompiledPlugins>> CompiledPlugins::build(
    const core::Config& config, Persistent& persistent, int workerCount, Lookup lookup) {
  if (!lookup) lookup = &find;
  auto out = std::make_shared<CompiledPlugins>();
  CompileEnv env(config, persistent);
  env.workerCount = workerCount;
  core::Errors errors;

  struct Candidate {
    const core::Plugin* entity;
    const Factory* factory;
    const Instance* instance;
    int rank;
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < config.plugins.size(); ++i) {
    const auto& p = config.plugins[i];
    if (!p.enabled || !runsOnHttp(p)) continue;
    const Factory* f = lookup(p.name);
    if (!f) {
      errors.push_back({pathOf(p, i) + ".name", "plugin '" + p.name + "' not enabled"});
      continue;
    }
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(p.config, ec);
    if (ec || !parsed.is_object()) {
      errors.push_back({pathOf(p, i) + ".config", "expected a record"});
      continue;
    }
    // The config was validated when it was written; validating again fills defaults a
    // newer build added and keeps compile() from seeing anything the schema forbids.
    schema::ValidateOptions opts;
    opts.pathPrefix = pathOf(p, i) + ".config";
    auto valid = schema::validate(f->schema(), parsed, opts);
    if (!valid) {
      for (const auto& e : valid.errors()) errors.push_back(e);
      continue;
    }
    auto inst = f->compile(p, *valid, env);
    if (!inst) {
      for (auto e : inst.errors()) {
        e.path = e.path.empty() ? pathOf(p, i) : pathOf(p, i) + "." + e.path;
        errors.push_back(std::move(e));
      }
      continue;
    }
    out->instances_.push_back(*inst);
    candidates.push_back({&p, f, inst->get(), rank(p)});
  }
  if (!errors.empty()) return errors;
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.rank < b.rank; });

  auto finish = [&](Chain& chain, const std::string& routeId,
                    const std::vector<const Candidate*>& applicable) {
    std::map<const Factory*, ChainEntry> byFactory;
    for (const Candidate* c : applicable) {  // most specific first
      ChainEntry& e = byFactory[c->factory];
      e.factory = c->factory;
      if (e.base) continue;  // something more specific without a consumer already won
      if (c->entity->consumerId) {
        bool seen = false;
        for (const auto& [id, inst] : e.byConsumer) seen = seen || id == *c->entity->consumerId;
        if (!seen) e.byConsumer.emplace_back(*c->entity->consumerId, c->instance);
      } else {
        e.base = c->instance;
      }
    }
    for (auto& [f, e] : byFactory) {
      auto addFlags = [&](const Instance* inst) {
        e.phases |= inst->phases();
        chain.needsRequestBody = chain.needsRequestBody || inst->needsRequestBody();
        chain.needsResponseBody = chain.needsResponseBody || inst->needsResponseBody();
        chain.asyncAccess = chain.asyncAccess || inst->asyncAccess();
        chain.needsUriCaptures = chain.needsUriCaptures || inst->usesUriCaptures();
      };
      if (e.base) addFlags(e.base);
      for (const auto& [id, inst] : e.byConsumer) addFlags(inst);
      if (e.phases == 0) continue;  // e.g. prometheus: nothing to run per request
      chain.phases |= e.phases;
      static constexpr std::string_view kPhases[] = {"rewrite", "access", "header_filter",
                                                     "body_filter", "log"};
      for (std::size_t p = 0; p < 5; ++p) e.spanNames[p] = trace::pluginSpanName(f->name(), kPhases[p]);
      e.timingSlot = static_cast<std::uint32_t>(out->slots_.size());
      out->slots_.push_back({routeId, std::string(f->name())});
      chain.entries.push_back(std::move(e));
    }
    std::stable_sort(chain.entries.begin(), chain.entries.end(),
                     [](const ChainEntry& a, const ChainEntry& b) {
                       return a.factory->priority() > b.factory->priority();
                     });
  };

  if (!candidates.empty()) {
    out->chains_.resize(config.routes.size());
    for (std::size_t ri = 0; ri < config.routes.size(); ++ri) {
      const auto& route = config.routes[ri];
      std::vector<const Candidate*> applicable;
      for (const auto& c : candidates) {
        const auto& p = *c.entity;
        if (p.routeId && *p.routeId != route.id) continue;
        if (p.serviceId && (!route.serviceId || *p.serviceId != *route.serviceId)) continue;
        applicable.push_back(&c);
      }
      finish(out->chains_[ri], route.id, applicable);
    }
    std::vector<const Candidate*> globals;
    for (const auto& c : candidates) {
      if (!c.entity->routeId && !c.entity->serviceId && !c.entity->consumerId)
        globals.push_back(&c);
    }
    finish(out->global_, "", globals);
  }
  return std::shared_ptr<const CompiledPlugins>(std::move(out));
}

}  // namespace archway::plugins
