#pragma once
// Kong's prometheus plugin (kong-reference §5.7). Archway's stats are per-worker shards merged
// off the request path whether or not the plugin is on, so the plugin costs nothing per
// request: it only decides which of Kong's opt-in metric groups /metrics exports.
//
// per_consumer (on in any enabled instance) fills the `consumer` label of
// kong_http_requests_total and kong_bandwidth_bytes with the consumer's username ("" without
// a consumer or a username, as Kong). Only then do the workers count requests by route,
// consumer and status code (metrics/route_consumer_counters.h; off, the request path pays one
// relaxed load), merged by the stats thread. Cardinality is bounded the way the consumer stats
// are: each worker labels at most its WorkerStats::maxConsumers() consumers (1,000 by default,
// EngineOptions::statsMaxConsumers), later ones are counted as consumer="(other)", and a
// worker keeps at most RouteConsumerCounters::kMaxEntries route/consumer/status keys (requests
// past that are counted in archway_prometheus_per_consumer_dropped_total).
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
