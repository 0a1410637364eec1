#pragma once
// GET/PATCH /archway/tracing (the sampler's settings, changed live on every worker) and
// GET /archway/logs/error (the newest error-log events, from the log thread's ring) (issue 6).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"

namespace archway::trace {
class Sampler;
}

namespace archway::admin {

// GET  /archway/tracing: {"enabled","sample_rate","slow_ms","errors","client_errors",
//      "respect_parent"}. PATCH (JSON or form body) changes the fields given; a value out of
//      range (sample_rate 0..1, slow_ms 0..4294967295) or of the wrong type answers Kong's 400
//      schema violation naming the field, and nothing changes. Null sampler: 404.
AdminResponse handleTracing(trace::Sampler* sampler, const AdminRequest& req);

// GET /archway/logs/error?limit=N&level=L: {"data":[event,...]} oldest first, the last N (1..1000,
// default 100) events at level L (debug, info, warn, error; default debug) or above. Each event
// is the error log's JSON line as an object.
AdminResponse handleErrorLogs(std::string_view query);

}  // namespace archway::admin
