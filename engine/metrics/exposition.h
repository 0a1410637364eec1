#pragma once
// Renders a StatsFrame for the outside world: Prometheus text exposition with Kong's metric
// names and labels (kong-reference #30), and the JSON of GET /archway/stats. Pure functions of
// an immutable frame: a scrape takes no lock the workers wait on.
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/stats_frame.h"

namespace archway::metrics {

// One address of one target, as Kong's exporter lists them: a hostname target has a row per
// address its name resolves to; one that does not resolve has one row, address "", dns_error.
struct TargetHealthRow {
  std::string upstream;  // upstream name
  std::string target;    // "host:port"
  std::string address;   // "ip:port"
  std::string state;     // healthy, unhealthy, dns_error, healthchecks_off
};

struct ExpositionInput {
  const StatsFrame* frame = nullptr;
  std::vector<TargetHealthRow> targets;
  std::string nodeId;
  std::string version;
  std::uint64_t residentBytes = 0;
  bool datastoreReachable = true;
  // Kong's opt-in metric groups (prometheus plugin: status_code_metrics, latency_metrics,
  // bandwidth_metrics, upstream_health_metrics). Archway collects the stats for the console
  // anyway, so without a prometheus plugin every group is exported; with one, its flags rule.
  struct Groups {
    bool statusCode = true, latency = true, bandwidth = true, upstreamHealth = true;
  } groups;
};

// Prometheus text format 0.0.4.
std::string renderPrometheus(const ExpositionInput& in);

// {"timestamp_ms", "interval_s", "connections", "total", "routes": [...], "services": [...],
// "consumers": [...], "consumers_active", "targets": [...], "plugins": [...]} with per-entity
// requests, rps, errors_4xx, errors_5xx, bytes and latency percentiles (p50, p90, p95, p99,
// p999, max, mean) over 1 s (latency_ms), 10 s (latency_ms_10s) and 60 s (latency_ms_60s), the
// same for upstream_latency_ms* and gateway_latency_ms*.
std::string renderStatsJson(const StatsFrame& frame);

}  // namespace archway::metrics
