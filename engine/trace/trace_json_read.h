#pragma once
// Reads back the traces of GET /archway/traces (trace_json.h) into FinishedTrace records, for
// the console watching a remote node. Strings longer than a record's fixed fields are cut as
// the recorder cuts them; span names are interned (span_names.h), so only a node the operator
// chose to watch can add names, and a name is kept once however often it comes back.
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "trace/finished_trace.h"
#include "trace/sampler.h"

namespace archway::trace {

// {"data": [...]}, newest first as sent. An error when the text is not that shape; a trace
// without a valid 32-hex-digit id is skipped; other missing members read as zero/empty.
core::Result<std::vector<FinishedTrace>> parseTraces(std::string_view text);

// The sampling settings of GET /archway/tracing (trace_json.h). nullopt unless the text is an
// object with numeric sample_rate and slow_ms; a missing flag keeps its default.
std::optional<SamplingPolicy> parseSamplingPolicy(std::string_view text);

}  // namespace archway::trace
