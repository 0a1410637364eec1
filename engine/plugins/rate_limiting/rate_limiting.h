#pragma once
// rate-limiting (Kong PRIORITY 910): fixed-window request limits per second, minute, hour,
// day, month and year, counted per consumer (default), credential, ip, service, header or
// path, falling back to the client IP as Kong does. Kong's schema, entity checks, headers
// (RateLimit-Limit/Remaining/Reset for the most constraining window,
// X-RateLimit-Limit-<Period>/X-RateLimit-Remaining-<Period>, Retry-After on refusal) and its
// 429 {"message":"API rate limit exceeded"}.
//
// Policies:
// - local: node-wide counters shared by every worker without a lock (counter_table.h), kept
//   across config reloads. Refused requests are not counted (Kong counts after the check).
//   Unlike Kong's (check now, count later in a timer) the check and the count are one atomic
//   step, so concurrent requests never pass the limit.
// - redis: Kong's key scheme ratelimit:<route_id>:<service_id>:<identifier>:<period_date>:
//   <period> (so Archway and Kong nodes can share one Redis), INCRBY + EXPIRE pipelined on a
//   per-worker connection pool (TCP or TLS, AUTH and SELECT per connection), asynchronous on
//   the worker's io_context. As in Kong every
//   request is counted, refused or not. On a Redis failure fault_tolerant=true lets the
//   request through (logged), false answers 500 "An unexpected error occurred".
//   sync_rate > 0 batches increments per worker and flushes them every sync_rate seconds,
//   as Kong does.
// - cluster: Kong's ratelimiting_metrics rows in the config database (SQLite or PostgreSQL),
//   shared by every node on it. Counted in a node-wide table and synced to the database by the
//   engine every ~100 ms (cluster_counters.h: never a database wait on a worker; nodes may
//   overshoot by what they admit within one sync period). Database unreachable:
//   fault_tolerant as for redis. Refused in declarative mode (no database), as in Kong.
#include <cstdint>
#include <functional>
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

struct RateLimitingOptions {
  // Wall clock, milliseconds since the epoch (tests drive it by hand). Empty: the system clock.
  std::function<std::int64_t()> nowMs;
  // Slots of the node-wide local counter table (set by the first compile of a node).
  std::size_t localSlots = 0;  // 0: the default size
};

std::unique_ptr<archway::plugins::Factory> makeRateLimitingPlugin();
std::unique_ptr<archway::plugins::Factory> makeRateLimitingPlugin(RateLimitingOptions options);

}  // namespace archway::plugins
