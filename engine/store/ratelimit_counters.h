#pragma once
// The rate-limiting `cluster` policy's counters in the config database: Kong's
// ratelimiting_metrics table (identifier, period, period_date, service_id, route_id, value),
// plus the row's expiry (`ttl`, as Kong's cleanup uses). Both stores create it in migration 4
// (the SQL below); a CounterStore is its own connection to the same database, so counter
// writes never queue behind config writes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace archway::store {

// Migration 4 of each store.
inline constexpr const char* kSqliteRateLimitMetrics = R"sql(
    CREATE TABLE ratelimiting_metrics (
      identifier TEXT NOT NULL,
      period TEXT NOT NULL,
      period_date INTEGER NOT NULL,
      service_id TEXT NOT NULL,
      route_id TEXT NOT NULL,
      value INTEGER NOT NULL,
      ttl INTEGER NOT NULL,
      PRIMARY KEY (identifier, period, period_date, service_id, route_id)
    );
    CREATE INDEX ratelimiting_metrics_ttl ON ratelimiting_metrics(ttl);
    )sql";
inline constexpr const char* kPostgresRateLimitMetrics = R"sql(
    CREATE TABLE ratelimiting_metrics (
      identifier TEXT NOT NULL,
      period TEXT NOT NULL,
      period_date TIMESTAMPTZ NOT NULL,
      service_id TEXT NOT NULL,
      route_id TEXT NOT NULL,
      value BIGINT NOT NULL,
      ttl TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (identifier, period, period_date, service_id, route_id)
    );
    CREATE INDEX ratelimiting_metrics_ttl ON ratelimiting_metrics(ttl);
    )sql";

struct CounterDelta {
  std::string identifier;
  std::string period;           // "second" ... "year"
  std::int64_t periodDate = 0;  // window start, seconds since the epoch
  std::string serviceId, routeId;
  std::int64_t delta = 0;      // 0: only read
  std::int64_t expiresAt = 0;  // seconds since the epoch
};

// One connection; not thread-safe (the engine's sync thread is its only user). Calls block
// (bounded: SQLite's busy timeout, libpq's connect and TCP timeouts).
class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Each delta is one atomic upsert-increment (INSERT ... ON CONFLICT DO UPDATE SET value =
  // value + excluded.value RETURNING value); a zero delta only reads. Values in the order given
  // (0 for a row that does not exist).
  virtual core::Result<std::vector<std::int64_t>> addAndRead(
      const std::vector<CounterDelta>& deltas) = 0;
  // Deletes the rows whose ttl is before `nowSec`; how many.
  virtual core::Result<std::int64_t> deleteExpired(std::int64_t nowSec) = 0;
};

// The same URLs as store::open ("sqlite:PATH", a path, "postgres://..."). The database must
// have been migrated (open it with store::open first).
core::Result<std::unique_ptr<CounterStore>> openCounterStore(const std::string& url);

}  // namespace archway::store
