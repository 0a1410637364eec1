#pragma once
// Traces as the Admin API shows them (issue 6):
//   {"data":[{"id","route","status","duration_ms","spans":[{"name","start_us","duration_us"}]}]}
// plus, per trace, what an operator needs to recognise the request: service, method, path,
// upstream_status, started_at (ms since the epoch), parent_span_id (the client's span, or
// null) and dropped_spans.
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "trace/finished_trace.h"
#include "trace/sampler.h"

namespace archway::trace {

boost::json::object toJson(const FinishedTrace& trace);
// {"data":[...]}
std::string renderTraces(const std::vector<FinishedTrace>& traces);
// One trace object.
std::string renderTrace(const FinishedTrace& trace);

// The sampling settings as GET /archway/tracing shows them and PATCH takes them:
// {"enabled","sample_rate","slow_ms","errors","client_errors","respect_parent"}.
boost::json::object toJson(const SamplingPolicy& policy);

}  // namespace archway::trace
