#pragma once
// GET/PATCH /archway/tracing (the sampler's settings, changed live on every worker) and
// GET /archway/logs/error and /archway/logs/access (the newest error-log events and access-log
// lines, from the log threads' rings) (issue 6).
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

// GET /archway/logs/error?limit=N&level=L&since=S: {"data":[event,...],"next_since":M} oldest
// first, the last N (1..1000, default 100) events at level L (debug, info, warn, error; default
// debug) or above, of those kept after sequence number S (default 0: all kept). Each event is
// the error log's JSON line as an object. M is the newest kept event's number: a poller passes
// it as the next `since` and gets only newer events. A `since` above M (the node restarted and
// numbers began anew) counts as 0.
AdminResponse handleErrorLogs(std::string_view query);

// GET /archway/logs/access?limit=N&route=R&status=S&since=Q: {"data":[line,...],"next_since":M}
// newest first, up to N (1..1000, default 100) of the access log's kept lines (each the JSON
// object --access-log writes) after sequence number Q, of route R (name or id) and status S
// (502, or a class like 5xx). `since` and next_since as for the error log. When no entries were
// produced before the call (no file, no console, no reader within the lease), the answer also
// has a "message" saying so: entries are produced from then on while the endpoint is read.
AdminResponse handleAccessLogs(const AdminContext& ctx, std::string_view query);

}  // namespace archway::admin
