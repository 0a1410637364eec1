// The PostgreSQL store: several archwayd nodes share one configuration (architecture.md,
// "Stores and clusters"; issue 4, "Clusters").
//
// Layout mirrors the SQLite store, migration for migration: services, routes, upstreams and
// targets in tables of their own (with the unique/foreign-key columns that let the database
// enforce Kong's constraints), consumers, credentials and plugins in one `entities` table keyed
// by (kind, id); every row holds the Kong JSON shape in `entity`. PostgreSQL has no rowid, so an
// explicit `position` keeps the order the config was written in. A single-row `config_version`
// table numbers every replace(); the writer bumps it in its transaction and NOTIFYs
// `archway_config` with "<version> <writer>", which every other node's watcher (a LISTEN connection
// on its own thread) turns into a reload. Kong itself polls a cluster_events table every 5 s
// (kong-reference §7.1); LISTEN/NOTIFY gets a change to every node in milliseconds.
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "config/declarative.h"
#include "config/json_shapes.h"
#include "core/log.h"
#include "core/uuid.h"
#include "store/entity_diff.h"
#include "store/ratelimit_counters.h"
#include "store/store.h"

namespace archway::store {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kChannel = "archway_config";

// Versioned migrations: index + 1 is the schema version; applied in order, once. The entity
// tables match the SQLite store's migrations of the same number, so both stores grow together.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE services (
      id TEXT PRIMARY KEY,
      name TEXT UNIQUE,
      position INTEGER NOT NULL,
      entity TEXT NOT NULL
    );
    CREATE TABLE routes (
      id TEXT PRIMARY KEY,
      name TEXT UNIQUE,
      service_id TEXT REFERENCES services(id) ON DELETE RESTRICT,
      position INTEGER NOT NULL,
      entity TEXT NOT NULL
    );
    CREATE INDEX routes_service_id ON routes(service_id);
    -- Cluster change tracking (PostgreSQL only): bumped by every replace().
    CREATE TABLE config_version (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      version BIGINT NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    INSERT INTO config_version (id, version) VALUES (1, 0);
    )sql",
    R"sql(
    CREATE TABLE upstreams (
      id TEXT PRIMARY KEY,
      name TEXT UNIQUE NOT NULL,
      position INTEGER NOT NULL,
      entity TEXT NOT NULL
    );
    CREATE TABLE targets (
      id TEXT PRIMARY KEY,
      upstream_id TEXT NOT NULL REFERENCES upstreams(id) ON DELETE CASCADE,
      target TEXT NOT NULL,
      position INTEGER NOT NULL,
      entity TEXT NOT NULL,
      UNIQUE (upstream_id, target)
    );
    )sql",
    // Consumers, their credentials and plugins: one table, as in the SQLite store; `kind` is
    // the declarative key. The entity JSON goes back through the declarative parser, which
    // checks every reference.
    R"sql(
    CREATE TABLE entities (
      id TEXT NOT NULL,
      kind TEXT NOT NULL,
      ref TEXT,
      position INTEGER NOT NULL,
      entity TEXT NOT NULL,
      PRIMARY KEY (kind, id)
    );
    )sql",
    // The rate-limiting cluster policy's counters (store/ratelimit_counters.h).
    kPostgresRateLimitMetrics,
};

// ---- Entity kinds -------------------------------------------------------------------------
//
// Every kind is one line below (plus its table in a migration, unless it shares `entities`):
// replace(), load() and empty() iterate this list, so a new kind of core::Config needs nothing
// else here. Parents come before children: rows are inserted in this order and deleted in the
// reverse order, which the foreign keys require.

using Columns = std::vector<std::optional<std::string>>;
using RowSink =
    std::function<void(const std::string& id, const Columns& columns, const std::string& json)>;

struct EntityKind {
  const char* key;                   // top-level key of the declarative document load() rebuilds
  const char* table;                 // its own table (named like the key), or the shared `entities`
  std::vector<const char*> columns;  // columns besides id/position/entity, as `rows` gives them
  std::function<void(const core::Config&, const RowSink&)> rows;
  // apply(): this kind's changed rows between two configs, how many (nothing serialised), and
  // its entity count.
  std::function<RowChanges(const core::Config& before, const core::Config& after)> diff;
  std::function<std::size_t(const core::Config& before, const core::Config& after)> changed;
  std::function<std::size_t(const core::Config&)> count;

  bool shared() const { return std::string_view(table) != key; }
  // Selects this kind's rows (a shared table is filtered by `kind`; keys are constants).
  std::string from() const {
    return std::string(" FROM ") + table +
           (shared() ? std::string(" WHERE kind = '") + key + "'" : "");
  }
};

// A kind with its own table; `columnsOf` gives the values of `columns` for one entity.
template <class T, class ColumnsOf>
EntityKind kind(const char* key, std::vector<const char*> columns,
                std::vector<T> core::Config::*member, ColumnsOf columnsOf) {
  return {key, key, std::move(columns),
          [member, columnsOf](const core::Config& c, const RowSink& sink) {
            for (const auto& e : c.*member)
              sink(e.id, columnsOf(e), boost::json::serialize(config::toJson(e)));
          },
          [member, columnsOf](const core::Config& before, const core::Config& after) {
            return diffRows(before.*member, after.*member,
                            [&](const T& e) { return rowOf(e, columnsOf); });
          },
          [member](const core::Config& before, const core::Config& after) {
            return changedRows(before.*member, after.*member);
          },
          [member](const core::Config& c) { return (c.*member).size(); }};
}

// A kind kept in the shared `entities` table (`ref` stays NULL, as in the SQLite store).
template <class T>
EntityKind sharedKind(const char* key, std::vector<T> core::Config::*member) {
  EntityKind k = kind(key, {"kind", "ref"}, member, [key](const T&) {
    return Columns{std::string(key), std::nullopt};
  });
  k.table = "entities";
  return k;
}

const std::vector<EntityKind>& entityKinds() {
  static const std::vector<EntityKind> kinds = {
      kind("services", {"name"}, &core::Config::services,
           [](const core::Service& s) { return Columns{s.name}; }),
      kind("routes", {"name", "service_id"}, &core::Config::routes,
           [](const core::Route& r) {
             return Columns{r.name, r.serviceId};
           }),
      kind("upstreams", {"name"}, &core::Config::upstreams,
           [](const core::Upstream& u) { return Columns{u.name}; }),
      kind("targets", {"upstream_id", "target"}, &core::Config::targets,
           [](const core::Target& t) {
             return Columns{t.upstreamId, t.target};
           }),
      sharedKind("consumers", &core::Config::consumers),
      sharedKind("keyauth_credentials", &core::Config::keyauthCredentials),
      sharedKind("basicauth_credentials", &core::Config::basicauthCredentials),
      sharedKind("jwt_secrets", &core::Config::jwtSecrets),
      sharedKind("acls", &core::Config::acls),
      sharedKind("plugins", &core::Config::plugins),
      sharedKind("certificates", &core::Config::certificates),
      sharedKind("snis", &core::Config::snis),
      sharedKind("ca_certificates", &core::Config::caCertificates),
  };
  return kinds;
}

// ---- libpq helpers ------------------------------------------------------------------------

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Res = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's messages end with a newline and may span lines (with tab-indented hints); our errors
// are one line each.
std::string oneLine(const char* msg) {
  std::string out;
  bool space = false;
  for (const char* p = msg ? msg : ""; *p; ++p) {
    if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += *p;
    }
  }
  return out.empty() ? "unknown error" : out;
}

// Defaults the URL can override (expand_dbname: keywords in the URL win over earlier ones):
// bounded connects, and TCP keepalives/user timeout so a server that vanishes without closing
// the connection (a partition, a dead host) is noticed in seconds, not hours.
struct ConnectParams {
  std::vector<const char*> keys{"connect_timeout",  "keepalives_idle",  "keepalives_interval",
                                "keepalives_count", "tcp_user_timeout", "application_name",
                                "client_encoding",  "dbname",           nullptr};
  std::vector<const char*> values;
  explicit ConnectParams(const std::string& url)
      : values{"5", "10", "5", "3", "15000", "archway", "UTF8", url.c_str(), nullptr} {}
};

void quietNotices(PGconn* c) {
  // "relation ... already exists, skipping" and the like would go to stderr otherwise.
  PQsetNoticeProcessor(
      c,
      [](void*, const char* msg) {
        core::log::debug("postgres notice", {{"message", oneLine(msg)}});
      },
      nullptr);
}

bool commandOk(const Res& r) {
  auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

// Escapes a value for COPY's text format: backslash, and the row/column separators.
void appendCopyValue(std::string& out, const std::string& v) {
  for (char ch : v) {
    switch (ch) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += ch;
    }
  }
}

// Payload of a change notification: "<version> <writer id>".
bool parsePayload(const char* payload, std::int64_t& version, std::string& writer) {
  std::string s = payload ? payload : "";
  auto sp = s.find(' ');
  try {
    version = std::stoll(s.substr(0, sp));
  } catch (...) {
    return false;
  }
  writer = sp == std::string::npos ? "" : s.substr(sp + 1);
  return true;
}

void raiseTo(std::atomic<std::int64_t>& a, std::int64_t v) {
  auto cur = a.load();
  while (cur < v && !a.compare_exchange_weak(cur, v)) {
  }
}

// ---- The store ----------------------------------------------------------------------------

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, Conn conn) : url_(std::move(url)), conn_(std::move(conn)) {}
  ~PostgresStore() override { unwatch(); }

  core::Status migrate() {
    std::lock_guard lock(mutex_);
    return withConnection([&](PGconn* c) -> core::Status {
      // One transaction (PostgreSQL's DDL is transactional) under an advisory lock: nodes
      // started together on an empty database migrate one after the other, never twice.
      if (auto s = exec(c,
                        "BEGIN; SELECT pg_advisory_xact_lock(7210388);"
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version INTEGER PRIMARY KEY,"
                        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now());");
          !s) {
        return rollback(c, s);
      }
      auto current = scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (!current) return rollback(c, current.errors());
      const int target = static_cast<int>(std::size(kMigrations));
      for (int v = static_cast<int>(std::stoll(*current)) + 1; v <= target; ++v) {
        std::string sql = std::string(kMigrations[v - 1]) +
                          "INSERT INTO schema_migrations (version) VALUES (" + std::to_string(v) +
                          ");";
        if (auto s = exec(c, sql); !s) {
          return rollback(
              c, core::Error{"db", "migration " + std::to_string(v) + " failed: " + s.errorText()});
        }
      }
      return exec(c, "COMMIT");
    });
  }

  int schemaVersion() override {
    std::lock_guard lock(mutex_);
    std::string v;
    auto s = withConnection([&](PGconn* c) -> core::Status {
      auto r = scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (!r) return r.errors();
      v = *r;
      return core::Ok{};
    });
    return s ? std::stoi(v) : 0;
  }

  bool empty() override {
    std::string sql = "SELECT ";
    bool first = true;
    for (const auto& k : entityKinds()) {
      if (!first) sql += " OR ";
      first = false;
      sql += "EXISTS (SELECT 1" + k.from() + ")";
    }
    std::lock_guard lock(mutex_);
    std::string any;
    auto s = withConnection([&](PGconn* c) -> core::Status {
      auto r = scalar(c, sql);
      if (!r) return r.errors();
      any = *r;
      return core::Ok{};
    });
    // An unreadable database is not "empty": callers seed empty stores, and must not overwrite
    // a real config because of a transient error (the following load() reports it).
    return s && any == "f";
  }

  core::Result<core::Config> load() override {
    std::string doc;
    std::int64_t version = 0;
    {
      std::lock_guard lock(mutex_);
      auto s = withConnection([&](PGconn* c) -> core::Status {
        // One snapshot for the version and every table: a concurrent replace() on another node
        // is seen entirely or not at all.
        if (auto s = exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
        auto v = scalar(c, "SELECT version FROM config_version WHERE id = 1");
        if (!v) return rollback(c, v.errors());
        version = std::stoll(*v);
        doc = R"({"_format_version":"3.0")";
        for (const auto& k : entityKinds()) {
          Res r(PQexec(c, ("SELECT entity" + k.from() + " ORDER BY position").c_str()));
          if (!commandOk(r)) return rollback(c, core::Error{"db", oneLine(PQerrorMessage(c))});
          doc += std::string(",\"") + k.key + "\":[";
          const int n = PQntuples(r.get());
          for (int i = 0; i < n; ++i) {
            if (i) doc += ',';
            doc.append(PQgetvalue(r.get(), i, 0), PQgetlength(r.get(), i, 0));
          }
          doc += ']';
        }
        doc += '}';
        return exec(c, "COMMIT");
      });
      if (!s) return s.errors();
    }
    auto config = config::parseDeclarative(doc);
    if (!config) {
      core::Errors errors;
      for (const auto& e : config.errors()) errors.push_back({"db: " + e.path, e.message});
      return errors;
    }
    raiseTo(seen_, version);
    return config;
  }

  core::Status replace(const core::Config& config) override {
    std::lock_guard lock(mutex_);
    std::int64_t version = 0;
    auto s = withConnection([&](PGconn* c) -> core::Status {
      if (auto s = exec(c, "BEGIN"); !s) return s;
      // The row lock on config_version serialises writers from every node: versions are
      // strictly increasing in commit order.
      auto v = scalar(c,
                      "UPDATE config_version SET version = version + 1, updated_at = now()"
                      " WHERE id = 1 RETURNING version");
      if (!v) return rollback(c, v.errors());
      version = std::stoll(*v);
      if (auto s = writeAll(c, config); !s) return rollback(c, s);
      return notifyAndCommit(c, version);
    });
    if (s) raiseTo(seen_, version);
    return s;
  }

  core::Status apply(const core::Config& before, const core::Config& after) override {
    const auto& kinds = entityKinds();
    // Counted first: rows are serialised once, by replace() or for the changed rows only.
    std::size_t changed = 0, rows = 0;
    for (const auto& k : kinds) {
      changed += k.changed(before, after);
      rows += k.count(after);
    }
    if (changed == 0) return core::Ok{};
    if (rewriteIsCheaper(changed, rows)) return replace(after);
    std::vector<RowChanges> changes;
    changes.reserve(kinds.size());
    for (const auto& k : kinds) changes.push_back(k.diff(before, after));
    std::lock_guard lock(mutex_);
    std::int64_t version = 0;
    auto s = withConnection([&](PGconn* c) -> core::Status {
      if (auto s = exec(c, "BEGIN"); !s) return s;
      auto v = scalar(c,
                      "UPDATE config_version SET version = version + 1, updated_at = now()"
                      " WHERE id = 1 RETURNING version");
      if (!v) return rollback(c, v.errors());
      version = std::stoll(*v);
      // The database holds `before` only if nobody wrote since this Store last read or wrote
      // (the version row is locked now, so this stays true until COMMIT). Otherwise, or when a
      // row statement fails (a row missing, swapped unique names), the whole config is written,
      // as replace() would.
      bool incremental = version - 1 == seen_.load();
      if (incremental) {
        if (auto s = exec(c, "SAVEPOINT incremental"); !s) return rollback(c, s);
        if (auto s = writeChanges(c, kinds, changes); !s) {
          core::log::debug("postgres store: incremental write fell back to a rewrite",
                           {{"error", s.errorText()}});
          if (auto r = exec(c, "ROLLBACK TO SAVEPOINT incremental"); !r) return rollback(c, r);
          incremental = false;
        }
      }
      if (!incremental) {
        if (auto s = writeAll(c, after); !s) return rollback(c, s);
      }
      return notifyAndCommit(c, version);
    });
    if (s) raiseTo(seen_, version);
    return s;
  }

  void watch(ChangeCallback onChange) override {
    unwatch();
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      core::log::error("postgres store: cannot watch for changes (pipe failed)");
      return;
    }
    stopping_ = false;
    watcher_ = std::thread([this, cb = std::move(onChange)] { watchLoop(cb); });
  }

  void unwatch() override {
    if (!watcher_.joinable()) return;
    stopping_ = true;
    [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    if (watcher_.get_id() == std::this_thread::get_id()) {
      watcher_.detach();  // misuse (unwatch from the callback): do not deadlock on ourselves
    } else {
      watcher_.join();
    }
    ::close(wake_[0]);
    ::close(wake_[1]);
    wake_[0] = wake_[1] = -1;
  }

  bool reachable() override { return reachable_.load(); }

 private:
  // Runs `op` on the main connection (caller holds mutex_). A server restart shows up as a
  // failed statement on a connection that was fine before; then the connection is reset and
  // `op` runs once more. Every op is a whole transaction, so running it again is safe (a
  // replace() whose COMMIT outcome was unknown just writes the same config as a new version).
  core::Status withConnection(const std::function<core::Status(PGconn*)>& op) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      return core::Error{"db", "PostgreSQL unreachable: " + oneLine(PQerrorMessage(conn_.get()))};
    auto s = op(conn_.get());
    if (s || PQstatus(conn_.get()) == CONNECTION_OK) return s;
    core::log::warn("postgres store: connection lost; reconnecting", {{"error", s.errorText()}});
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      return core::Error{"db", "PostgreSQL unreachable: " + oneLine(PQerrorMessage(conn_.get()))};
    quietNotices(conn_.get());
    return op(conn_.get());
  }

  static core::Status exec(PGconn* c, const std::string& sql) {
    Res r(PQexec(c, sql.c_str()));
    if (!commandOk(r)) return core::Error{"db", oneLine(PQerrorMessage(c))};
    return core::Ok{};
  }

  // The first column of the first row, as text.
  static core::Result<std::string> scalar(PGconn* c, const std::string& sql) {
    Res r(PQexec(c, sql.c_str()));
    if (!commandOk(r)) return core::Error{"db", oneLine(PQerrorMessage(c))};
    if (PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1)
      return core::Error{"db", "no row from: " + sql};
    return std::string(PQgetvalue(r.get(), 0, 0));
  }

  static core::Status rollback(PGconn* c, core::Status s) {
    if (PQstatus(c) == CONNECTION_OK) Res(PQexec(c, "ROLLBACK"));
    return s;
  }

  // Every kind's rows replaced (inside the caller's transaction). DELETE rather than TRUNCATE:
  // TRUNCATE is not MVCC-safe, so another node's load() in a snapshot taken before this commit
  // could see the tables empty.
  static core::Status writeAll(PGconn* c, const core::Config& config) {
    const auto& kinds = entityKinds();
    for (auto it = kinds.rbegin(); it != kinds.rend(); ++it) {
      if (auto s = exec(c, "DELETE" + it->from()); !s) return s;
    }
    for (const auto& k : kinds) {
      if (auto s = copyRows(c, k, config); !s) return s;
    }
    return core::Ok{};
  }

  // Only the changed rows (inside the caller's transaction): deletions children first, then
  // updates and appends parents first, as the foreign keys require. Every UPDATE and DELETE
  // must hit exactly one row; otherwise the database did not hold `before` and this fails.
  static core::Status writeChanges(PGconn* c, const std::vector<EntityKind>& kinds,
                                   const std::vector<RowChanges>& changes) {
    for (std::size_t k = kinds.size(); k-- > 0;) {
      const auto& kind = kinds[k];
      const std::string sql = std::string("DELETE FROM ") + kind.table + " WHERE id = $1" +
                              kindFilter(kind);
      for (const auto& id : changes[k].deleted)
        if (auto s = execRow(c, sql, {id}, true); !s) return s;
    }
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const auto& kind = kinds[k];
      const auto& ch = changes[k];
      // UPDATE t SET col = $2, ..., entity = $n [, position = $n+1] WHERE id = $1 [AND kind]
      auto update = [&](bool withPosition) {
        std::string sql = std::string("UPDATE ") + kind.table + " SET ";
        int n = 2;
        for (const char* col : kind.columns) sql += std::string(col) + " = $" + std::to_string(n++) + ", ";
        sql += "entity = $" + std::to_string(n++);
        if (withPosition) sql += ", position = $" + std::to_string(n);
        return sql + " WHERE id = $1" + kindFilter(kind);
      };
      auto params = [](const Row& row) {
        std::vector<std::optional<std::string>> p{row.id};
        p.insert(p.end(), row.columns.begin(), row.columns.end());
        p.push_back(row.json);
        return p;
      };
      const std::string updateSql = update(false);
      for (const auto& row : ch.updated)
        if (auto s = execRow(c, updateSql, params(row), true); !s) return s;
      if (ch.appended.empty()) continue;
      auto base = scalar(c, "SELECT COALESCE(MAX(position), -1) + 1" + kind.from());
      if (!base) return base.errors();
      std::int64_t position = std::stoll(*base);
      const std::string moveSql = update(true);
      std::string insertSql = std::string("INSERT INTO ") + kind.table + " (id";
      for (const char* col : kind.columns) insertSql += std::string(", ") + col;
      insertSql += ", entity, position) VALUES ($1";
      for (std::size_t n = 2; n <= kind.columns.size() + 3; ++n) insertSql += ", $" + std::to_string(n);
      insertSql += ")";
      for (const auto& a : ch.appended) {
        auto p = params(a.row);
        p.push_back(std::to_string(position++));
        if (auto s = execRow(c, a.existed ? moveSql : insertSql, p, a.existed); !s) return s;
      }
    }
    return core::Ok{};
  }

  static std::string kindFilter(const EntityKind& k) {
    return k.shared() ? std::string(" AND kind = '") + k.key + "'" : std::string();
  }

  // One parameterised statement; `oneRow`: it must change exactly one row.
  static core::Status execRow(PGconn* c, const std::string& sql,
                              const std::vector<std::optional<std::string>>& params, bool oneRow) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    Res r(PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                       nullptr, nullptr, 0));
    if (!commandOk(r)) return core::Error{"db", oneLine(PQerrorMessage(c))};
    if (oneRow && std::string_view(PQcmdTuples(r.get())) != "1")
      return core::Error{"db", "no row " + (params.empty() ? std::string() : *params.front()) +
                                   " to change: " + sql};
    return core::Ok{};
  }

  // The change notification, delivered to listeners only when (and if) the transaction commits.
  core::Status notifyAndCommit(PGconn* c, std::int64_t version) {
    std::string payload = std::to_string(version) + " " + writer_;
    const char* params[] = {kChannel, payload.c_str()};
    Res r(PQexecParams(c, "SELECT pg_notify($1, $2)", 2, nullptr, params, nullptr, nullptr, 0));
    if (!commandOk(r)) return rollback(c, core::Error{"db", oneLine(PQerrorMessage(c))});
    return exec(c, "COMMIT");
  }

  // COPY is far faster than row-by-row INSERTs for 10^5 entities (issue 4's consumer target).
  static core::Status copyRows(PGconn* c, const EntityKind& k, const core::Config& config) {
    std::string sql = std::string("COPY ") + k.table + " (id";
    for (const char* col : k.columns) sql += std::string(", ") + col;
    sql += ", position, entity) FROM STDIN";
    Res start(PQexec(c, sql.c_str()));
    if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN)
      return core::Error{"db", oneLine(PQerrorMessage(c))};
    std::string buf;
    int position = 0;
    bool sendFailed = false;
    auto flush = [&] {
      if (!buf.empty() && PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) != 1)
        sendFailed = true;
      buf.clear();
    };
    k.rows(config, [&](const std::string& id, const Columns& cols, const std::string& json) {
      appendCopyValue(buf, id);
      for (const auto& col : cols) {
        buf += '\t';
        if (col)
          appendCopyValue(buf, *col);
        else
          buf += "\\N";
      }
      buf += '\t';
      buf += std::to_string(position++);
      buf += '\t';
      appendCopyValue(buf, json);
      buf += '\n';
      if (buf.size() >= (1 << 20)) flush();
    });
    flush();
    if (PQputCopyEnd(c, sendFailed ? "send failed" : nullptr) != 1)
      return core::Error{"db", oneLine(PQerrorMessage(c))};
    core::Status status = core::Ok{};
    // The COPY's outcome (constraint violations show up here), then the end of the results.
    while (Res r{PQgetResult(c)}) {
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && status)
        status =
            core::Error{"db", std::string(k.key) + ": " + oneLine(PQresultErrorMessage(r.get()))};
    }
    return status;
  }

  // ---- Watcher thread ----

  enum class Wait { ready, woken, timeout, failed };

  // Waits for `events` on fd, or for unwatch(), or until the deadline.
  Wait waitFor(int fd, short events, Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (stopping_) return Wait::woken;
      if (left <= 0) return Wait::timeout;
      pollfd fds[2] = {{wake_[0], POLLIN, 0}, {fd, events, 0}};
      int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Wait::failed;
      if (stopping_ || (fds[0].revents & POLLIN)) return Wait::woken;
      if (n > 0 && fd >= 0 && fds[1].revents) return Wait::ready;
    }
  }

  // A non-blocking connect, so unwatch() never waits for a connect timeout.
  Conn connectWatcher(std::string& error) {
    ConnectParams p(url_);
    Conn c(PQconnectStartParams(p.keys.data(), p.values.data(), 1));
    if (!c || PQstatus(c.get()) == CONNECTION_BAD) {
      error = c ? oneLine(PQerrorMessage(c.get())) : "out of memory";
      return nullptr;
    }
    auto deadline = Clock::now() + std::chrono::seconds(10);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
      if (st == PGRES_POLLING_OK) break;
      if (st == PGRES_POLLING_FAILED) {
        error = oneLine(PQerrorMessage(c.get()));
        return nullptr;
      }
      // The socket can change between attempts (several hosts/addresses): ask every time.
      auto w = waitFor(PQsocket(c.get()), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
      if (w == Wait::woken) return nullptr;
      if (w != Wait::ready) {
        error = "connect timed out";
        return nullptr;
      }
      st = PQconnectPoll(c.get());
    }
    quietNotices(c.get());
    return c;
  }

  // Runs a (multi-statement) query without blocking unwatch(); the value of the last row set.
  std::optional<std::string> query(PGconn* c, const char* sql, std::string& error) {
    if (!PQsendQuery(c, sql)) {
      error = oneLine(PQerrorMessage(c));
      return std::nullopt;
    }
    auto deadline = Clock::now() + std::chrono::seconds(10);
    std::optional<std::string> value;
    for (;;) {
      while (PQisBusy(c)) {
        if (waitFor(PQsocket(c), POLLIN, deadline) != Wait::ready || !PQconsumeInput(c)) {
          error = stopping_ ? "stopping" : oneLine(PQerrorMessage(c));
          return std::nullopt;
        }
      }
      Res r(PQgetResult(c));
      if (!r) break;
      if (!commandOk(r)) {
        error = oneLine(PQresultErrorMessage(r.get()));
        value.reset();
        while (Res rest{PQgetResult(c)}) {
        }
        return std::nullopt;
      }
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK && PQntuples(r.get()) > 0)
        value = PQgetvalue(r.get(), 0, 0);
    }
    if (!value) error = "no row";
    return value;
  }

  void watchLoop(const ChangeCallback& onChange) {
    auto backoff = milliseconds(250);
    bool lost = false;  // log once per outage, not once per attempt
    while (!stopping_) {
      std::string error;
      Conn c = connectWatcher(error);
      std::optional<std::string> current;
      // LISTEN before reading the version: a change committed in between is then seen in the
      // version, or as a notification, or both (a harmless second reload).
      if (c)
        current = query(c.get(),
                        (std::string("LISTEN ") + kChannel +
                         "; SELECT version FROM config_version WHERE id = 1")
                            .c_str(),
                        error);
      if (stopping_) break;
      if (!current) {
        reachable_ = false;
        if (!lost) {
          core::log::warn("postgres store: change watcher cannot reach the database; retrying",
                          {{"error", error}});
          lost = true;
        }
        waitFor(-1, 0, Clock::now() + backoff);
        backoff = std::min(backoff * 2, milliseconds(5000));
        continue;
      }
      if (lost) core::log::info("postgres store: change watcher reconnected");
      reachable_ = true;
      lost = false;
      backoff = milliseconds(250);
      // Whatever changed while we were not listening (or since the caller last loaded).
      if (auto v = std::stoll(*current); v > seen_) onChange("version " + *current);

      while (!stopping_) {
        auto w = waitFor(PQsocket(c.get()), POLLIN, Clock::now() + std::chrono::seconds(1));
        if (w == Wait::woken) break;
        if (w == Wait::failed) break;
        if (w == Wait::ready && !PQconsumeInput(c.get())) break;
        // Bursts are coalesced: one callback for the newest version of everything read.
        std::int64_t newest = 0;
        while (PGnotify* n = PQnotifies(c.get())) {
          std::int64_t v = 0;
          std::string writer;
          if (parsePayload(n->extra, v, writer) && writer != writer_) newest = std::max(newest, v);
          PQfreemem(n);
        }
        if (newest > seen_) onChange("version " + std::to_string(newest));
        if (PQstatus(c.get()) != CONNECTION_OK) break;
      }
      if (stopping_) break;
      reachable_ = false;
      core::log::warn("postgres store: change watcher lost the database; reconnecting",
                      {{"error", oneLine(PQerrorMessage(c.get()))}});
      lost = true;
    }
  }

  const std::string url_;
  std::mutex mutex_;  // the main connection: one statement stream at a time
  Conn conn_;
  const std::string writer_ = core::uuid4();  // tells our own notifications from others'
  // The newest version this Store wrote or loaded: notifications up to it are not news.
  std::atomic<std::int64_t> seen_{0};
  std::thread watcher_;
  std::atomic<bool> stopping_{false};
  int wake_[2] = {-1, -1};  // unwatch() writes to wake the watcher's poll()
  // The watcher's view of the server (reachable()): true after connecting (open() just did).
  std::atomic<bool> reachable_{true};
};

// Hides the password in messages: "postgres://user:***@host/db".
std::string redacted(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace

core::Result<std::unique_ptr<Store>> openPostgres(const std::string& url) {
  ConnectParams p(url);
  Conn c(PQconnectdbParams(p.keys.data(), p.values.data(), 1));
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    return core::Error{"db", "cannot connect to " + redacted(url) + ": " +
                                 (c ? oneLine(PQerrorMessage(c.get())) : "out of memory")};
  }
  quietNotices(c.get());
  auto store = std::make_unique<PostgresStore>(url, std::move(c));
  if (auto s = store->migrate(); !s) return s.errors();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace archway::store
