#pragma once
// GET /archway/traces and GET /archway/traces/{id} (issue 6), independent of the Admin API's
// router so they can be tested alone. The Admin API routes to these and wraps the result in
// an AdminResponse (JSON body, Content-Type application/json; charset=utf-8).
#include <string>
#include <string_view>

#include "trace/trace_store.h"

namespace archway::admin {

struct TraceHandlerResult {
  int status = 200;
  std::string body;  // JSON
};

// GET /archway/traces?limit=&route=&status=&min_ms=
//   limit   1..1000, default 100
//   route   a route name or id
//   status  an exact status ("503") or a class ("5xx")
//   min_ms  a duration in milliseconds (decimals allowed)
// 200 {"data":[...]} newest first; 400 {"message":...} naming the bad parameter.
TraceHandlerResult handleTraceList(const trace::TraceStore& store, std::string_view query);

// GET /archway/traces/{id}: 200 the trace object; 400 when id is not 32 hex digits; 404
// {"message":"Not found"} when no trace with that id is kept.
TraceHandlerResult handleTraceById(const trace::TraceStore& store, std::string_view id);

}  // namespace archway::admin
