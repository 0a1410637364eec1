#pragma once
// Reads back the JSON of GET /archway/stats and of each /archway/stats/stream event
// (renderStatsJson in exposition.h) into a StatsFrame, for the console watching a remote node.
// What the JSON does not carry stays empty: per-status-code counts and the cumulative
// histograms (Prometheus data the console does not show).
#include <string_view>

#include "core/result.h"
#include "metrics/stats_frame.h"

namespace archway::metrics {

// An error when the text is not a JSON object; missing or mistyped members read as zero/empty,
// so a node of another version still shows what it sends.
core::Result<StatsFrame> parseStatsJson(std::string_view body);

}  // namespace archway::metrics
