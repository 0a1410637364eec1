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

namespace archway::trace {

boost::json::object toJson(const FinishedTrace& trace);
// {"data":[...]}
std::string renderTraces(const std::vector<FinishedTrace>& traces);
// One trace object.
std::string renderTrace(const FinishedTrace& trace);

}  // namespace archway::trace
