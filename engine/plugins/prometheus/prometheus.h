#pragma once
// Kong's prometheus plugin (kong-reference §5.7). Archway's stats are per-worker shards merged
// off the request path whether or not the plugin is on, so the plugin costs nothing per
// request: it only decides which of Kong's opt-in metric groups /metrics exports.
#include <memory>

#include "core/entities.h"
#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<Factory> makePrometheusPlugin();

// The metric groups the config's enabled prometheus plugins ask for (OR over them); nullopt
// when no prometheus plugin is configured.
struct PrometheusGroups {
  bool statusCode = false, latency = false, bandwidth = false, upstreamHealth = false,
       perConsumer = false;
};
std::optional<PrometheusGroups> prometheusGroups(const core::Config& config);

}  // namespace archway::plugins
