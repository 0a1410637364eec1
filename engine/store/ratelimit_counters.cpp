// The rate-limiting cluster policy's counters (ratelimit_counters.h) in SQLite and PostgreSQL.
#include "store/ratelimit_counters.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <string_view>

namespace archway::store {
namespace {

constexpr const char* kSqliteUpsert =
    "INSERT INTO ratelimiting_metrics"
    " (identifier, period, period_date, service_id, route_id, value, ttl)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT (identifier, period, period_date, service_id, route_id)"
    " DO UPDATE SET value = value + excluded.value, ttl = excluded.ttl RETURNING value";
constexpr const char* kSqliteSelect =
    "SELECT value FROM ratelimiting_metrics WHERE identifier = ?1 AND period = ?2"
    " AND period_date = ?3 AND service_id = ?4 AND route_id = ?5";
constexpr const char* kSqliteDelete = "DELETE FROM ratelimiting_metrics WHERE ttl < ?1";

class SqliteCounters final : public CounterStore {
 public:
  explicit SqliteCounters(sqlite3* db) : db_(db) {}
  ~SqliteCounters() override {
    sqlite3_finalize(upsert_);
    sqlite3_finalize(select_);
    sqlite3_finalize(delete_);
    sqlite3_close(db_);
  }

  core::Status prepare() {
    sqlite3_busy_timeout(db_, 5000);
    for (auto [sql, st] : {std::pair{kSqliteUpsert, &upsert_}, std::pair{kSqliteSelect, &select_},
                           std::pair{kSqliteDelete, &delete_}}) {
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, st, nullptr) != SQLITE_OK)
        return error();
    }
    return core::Ok{};
  }

  core::Result<std::vector<std::int64_t>> addAndRead(
      const std::vector<CounterDelta>& deltas) override {
    std::vector<std::int64_t> out;
    out.reserve(deltas.size());
    // One write transaction for the round (SQLite has one writer at a time anyway): taken
    // up front so it never has to be upgraded from a read lock, which can fail with BUSY.
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return error().errors();
    for (const auto& d : deltas) {
      sqlite3_stmt* st = d.delta != 0 ? upsert_ : select_;
      sqlite3_reset(st);
      bindText(st, 1, d.identifier);
      bindText(st, 2, d.period);
      sqlite3_bind_int64(st, 3, d.periodDate);
      bindText(st, 4, d.serviceId);
      bindText(st, 5, d.routeId);
      if (d.delta != 0) {
        sqlite3_bind_int64(st, 6, d.delta);
        sqlite3_bind_int64(st, 7, d.expiresAt);
      }
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        out.push_back(sqlite3_column_int64(st, 0));
      } else if (rc == SQLITE_DONE && d.delta == 0) {
        out.push_back(0);
      } else {
        auto e = error();
        sqlite3_reset(st);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return e.errors();
      }
      sqlite3_reset(st);
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto e = error();
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return e.errors();
    }
    return out;
  }

  core::Result<std::int64_t> deleteExpired(std::int64_t nowSec) override {
    sqlite3_reset(delete_);
    sqlite3_bind_int64(delete_, 1, nowSec);
    const int rc = sqlite3_step(delete_);
    sqlite3_reset(delete_);
    if (rc != SQLITE_DONE) return error().errors();
    return static_cast<std::int64_t>(sqlite3_changes(db_));
  }

 private:
  static void bindText(sqlite3_stmt* st, int i, const std::string& s) {
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  core::Status error() const { return core::Error{"db", sqlite3_errmsg(db_)}; }

  sqlite3* db_;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
};

// ------------------------------------------------------------------------------ PostgreSQL

constexpr const char* kPgUpsert =
    "INSERT INTO ratelimiting_metrics"
    " (identifier, period, period_date, service_id, route_id, value, ttl)"
    " VALUES ($1, $2, to_timestamp($3), $4, $5, $6, to_timestamp($7))"
    " ON CONFLICT (identifier, period, period_date, service_id, route_id)"
    " DO UPDATE SET value = ratelimiting_metrics.value + EXCLUDED.value, ttl = EXCLUDED.ttl"
    " RETURNING value";
constexpr const char* kPgSelect =
    "SELECT value FROM ratelimiting_metrics WHERE identifier = $1 AND period = $2"
    " AND period_date = to_timestamp($3) AND service_id = $4 AND route_id = $5";
constexpr const char* kPgDelete = "DELETE FROM ratelimiting_metrics WHERE ttl < to_timestamp($1)";

std::string oneLine(const char* msg) {
  std::string out;
  for (const char* p = msg ? msg : ""; *p; ++p) {
    const char c = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "unknown error" : out;
}

class PostgresCounters final : public CounterStore {
 public:
  explicit PostgresCounters(PGconn* c) : conn_(c) {}
  ~PostgresCounters() override { PQfinish(conn_); }

  core::Result<std::vector<std::int64_t>> addAndRead(
      const std::vector<CounterDelta>& deltas) override {
    if (auto s = connected(); !s) return s.errors();
    // One autocommitted upsert per counter: each is atomic on its own, and no transaction
    // spans several rows, so nodes writing the same counters in another order cannot deadlock.
    std::vector<std::int64_t> out;
    out.reserve(deltas.size());
    std::string date, delta, ttl;
    for (const auto& d : deltas) {
      date = std::to_string(d.periodDate);
      delta = std::to_string(d.delta);
      ttl = std::to_string(d.expiresAt);
      const char* params[] = {d.identifier.c_str(), d.period.c_str(),  date.c_str(),
                              d.serviceId.c_str(),  d.routeId.c_str(), delta.c_str(),
                              ttl.c_str()};
      PGresult* r = d.delta != 0
                        ? PQexecParams(conn_, kPgUpsert, 7, nullptr, params, nullptr, nullptr, 0)
                        : PQexecParams(conn_, kPgSelect, 5, nullptr, params, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        std::string msg = oneLine(PQerrorMessage(conn_));
        PQclear(r);
        return core::Error{"db", msg};
      }
      out.push_back(PQntuples(r) > 0 ? std::stoll(PQgetvalue(r, 0, 0)) : 0);
      PQclear(r);
    }
    return out;
  }

  core::Result<std::int64_t> deleteExpired(std::int64_t nowSec) override {
    if (auto s = connected(); !s) return s.errors();
    const std::string now = std::to_string(nowSec);
    const char* params[] = {now.c_str()};
    PGresult* r = PQexecParams(conn_, kPgDelete, 1, nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::string msg = oneLine(PQerrorMessage(conn_));
      PQclear(r);
      return core::Error{"db", msg};
    }
    const char* n = PQcmdTuples(r);
    std::int64_t count = n && *n ? std::stoll(n) : 0;
    PQclear(r);
    return count;
  }

 private:
  // A server restart leaves a broken connection: reset it before the next round.
  core::Status connected() {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
      return core::Error{"db", "PostgreSQL unreachable: " + oneLine(PQerrorMessage(conn_))};
    return core::Ok{};
  }

  PGconn* conn_;
};

}  // namespace

core::Result<std::unique_ptr<CounterStore>> openCounterStore(const std::string& url) {
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
    // Bounded connects and a TCP user timeout, so a vanished server fails a round in seconds.
    const char* keys[] = {"connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "application_name",
                          "dbname",
                          nullptr};
    const char* values[] = {"3", "10", "5", "3", "5000", "archway-ratelimit", url.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
      std::string msg = c ? oneLine(PQerrorMessage(c)) : "out of memory";
      PQfinish(c);
      return core::Error{"db", "rate-limiting counters: cannot connect: " + msg};
    }
    return std::unique_ptr<CounterStore>(std::make_unique<PostgresCounters>(c));
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return core::Error{"db", "empty database path"};
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return core::Error{"db", "rate-limiting counters: cannot open " + path + ": " + msg};
  }
  auto store = std::make_unique<SqliteCounters>(db);
  if (auto s = store->prepare(); !s) return s.errors();
  return std::unique_ptr<CounterStore>(std::move(store));
}

}  // namespace archway::store
