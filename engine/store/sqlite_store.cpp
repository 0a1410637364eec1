#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>
#include <vector>

#include "config/declarative.h"
#include "core/log.h"
#include "store/entity_diff.h"
#include "store/ratelimit_counters.h"
#include "store/store.h"

namespace archway::store {
namespace {

// Versioned migrations: index + 1 is the schema version; applied in order, once.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE services (
      id TEXT PRIMARY KEY,
      name TEXT UNIQUE,
      entity TEXT NOT NULL
    );
    CREATE TABLE routes (
      id TEXT PRIMARY KEY,
      name TEXT UNIQUE,
      service_id TEXT REFERENCES services(id) ON DELETE RESTRICT,
      entity TEXT NOT NULL
    );
    CREATE INDEX routes_service_id ON routes(service_id);
    )sql",
    R"sql(
    CREATE TABLE upstreams (
      id TEXT PRIMARY KEY,
      name TEXT UNIQUE NOT NULL,
      entity TEXT NOT NULL
    );
    CREATE TABLE targets (
      id TEXT PRIMARY KEY,
      upstream_id TEXT NOT NULL REFERENCES upstreams(id) ON DELETE CASCADE,
      target TEXT NOT NULL,
      entity TEXT NOT NULL,
      UNIQUE (upstream_id, target)
    );
    )sql",
    // Consumers, their credentials and plugins: one table, rows in config order (rowid). The
    // entity JSON goes back through the declarative parser, which checks every reference.
    R"sql(
    CREATE TABLE entities (
      id TEXT NOT NULL,
      kind TEXT NOT NULL,
      ref TEXT,
      entity TEXT NOT NULL,
      PRIMARY KEY (kind, id)
    );
    )sql",
    // The rate-limiting cluster policy's counters (store/ratelimit_counters.h).
    kSqliteRateLimitMetrics,
};

// The kinds kept in `entities`, in the order load() reads them.
constexpr const char* kEntityKinds[] = {"consumers", "keyauth_credentials", "basicauth_credentials",
                                        "jwt_secrets", "acls", "plugins", "certificates", "snis",
                                        "ca_certificates"};

// ---- Writes (replace() and apply()) ----------------------------------------------------------
// Every kind with its table and the columns besides id and entity (rows keep config order by
// rowid). Both writes go through the kinds listed here; when a kind of kEntityKinds is missing
// here they fail, so a new kind is never silently left unwritten.
using Columns = std::vector<std::optional<std::string>>;

struct KindTable {
  const char* key;
  const char* table;
  std::vector<const char*> columns;
  std::function<RowChanges(const core::Config& before, const core::Config& after)> diff;
  // diff(before, after).count(), nothing serialised (changedRows()).
  std::function<std::size_t(const core::Config& before, const core::Config& after)> changed;
  std::function<std::size_t(const core::Config&)> count;
  // The shared `entities` table is filtered by kind (keys are constants).
  std::string filter() const {
    return std::string_view(table) == key ? std::string() : std::string(" AND kind = '") + key + "'";
  }
};

template <class T, class ColumnsOf>
KindTable kindTable(const char* key, const char* table, std::vector<const char*> columns,
                    std::vector<T> core::Config::*member, ColumnsOf columnsOf) {
  return {key,
          table,
          std::move(columns),
          [member, columnsOf](const core::Config& before, const core::Config& after) {
            return diffRows(before.*member, after.*member,
                            [&](const T& e) { return rowOf(e, columnsOf); });
          },
          [member](const core::Config& before, const core::Config& after) {
            return changedRows(before.*member, after.*member);
          },
          [member](const core::Config& c) { return (c.*member).size(); }};
}

template <class T>
KindTable sharedKindTable(const char* key, std::vector<T> core::Config::*member) {
  return kindTable(key, "entities", {"kind", "ref"}, member,
                   [key](const T&) { return Columns{std::string(key), std::nullopt}; });
}

// Parents before children: appends go in this order, deletions in the reverse one.
const std::vector<KindTable>& kindTables() {
  static const std::vector<KindTable> kinds = {
      kindTable("services", "services", {"name"}, &core::Config::services,
                [](const core::Service& s) { return Columns{s.name}; }),
      kindTable("routes", "routes", {"name", "service_id"}, &core::Config::routes,
                [](const core::Route& r) { return Columns{r.name, r.serviceId}; }),
      kindTable("upstreams", "upstreams", {"name"}, &core::Config::upstreams,
                [](const core::Upstream& u) { return Columns{u.name}; }),
      kindTable("targets", "targets", {"upstream_id", "target"}, &core::Config::targets,
                [](const core::Target& t) { return Columns{t.upstreamId, t.target}; }),
      sharedKindTable("consumers", &core::Config::consumers),
      sharedKindTable("keyauth_credentials", &core::Config::keyauthCredentials),
      sharedKindTable("basicauth_credentials", &core::Config::basicauthCredentials),
      sharedKindTable("jwt_secrets", &core::Config::jwtSecrets),
      sharedKindTable("acls", &core::Config::acls),
      sharedKindTable("plugins", &core::Config::plugins),
      sharedKindTable("certificates", &core::Config::certificates),
      sharedKindTable("snis", &core::Config::snis),
      sharedKindTable("ca_certificates", &core::Config::caCertificates),
  };
  return kinds;
}

// Whether every kind load() reads has a table entry (a new kind must get one to be written).
bool tablesCoverEveryKind() {
  const auto& kinds = kindTables();
  return std::all_of(std::begin(kEntityKinds), std::end(kEntityKinds), [&](const char* key) {
    return std::any_of(kinds.begin(), kinds.end(),
                       [&](const KindTable& k) { return std::string_view(k.key) == key; });
  });
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  core::Status migrate() {
    // A POST /config of 10^4 routes writes ~10 MB of pages in one transaction: with SQLite's
    // 2 MB default cache they spill to the WAL mid-transaction (and are written twice). The
    // cache grows only as pages are used, up to 32 MB.
    if (auto s = exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
                      "PRAGMA cache_size=-32768;"
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);");
        !s) {
      return s;
    }
    int current = schemaVersion();
    const int target = static_cast<int>(std::size(kMigrations));
    for (int v = current + 1; v <= target; ++v) {
      std::string sql = std::string("BEGIN;") + kMigrations[v - 1] +
                        "INSERT INTO schema_migrations VALUES (" + std::to_string(v) +
                        ", strftime('%s','now')); COMMIT;";
      if (auto s = exec(sql); !s) {
        exec("ROLLBACK;");
        return core::Error{"db", "migration " + std::to_string(v) + " failed: " + s.errorText()};
      }
    }
    return core::Ok{};
  }

  int schemaVersion() override {
    int version = 0;
    query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
          [&](sqlite3_stmt* st) { version = sqlite3_column_int(st, 0); });
    return version;
  }

  bool empty() override {
    int n = 0;
    query("SELECT (SELECT COUNT(*) FROM services) + (SELECT COUNT(*) FROM routes)",
          [&](sqlite3_stmt* st) { n = sqlite3_column_int(st, 0); });
    if (n == 0) {
      query("SELECT (SELECT COUNT(*) FROM upstreams) + (SELECT COUNT(*) FROM targets) + "
            "(SELECT COUNT(*) FROM entities)",
            [&](sqlite3_stmt* st) { n = sqlite3_column_int(st, 0); });
    }
    return n == 0;
  }

  core::Result<core::Config> load() override {
    std::string doc = R"({"_format_version":"3.0","services":[)";
    bool first = true;
    auto append = [&](sqlite3_stmt* st) {
      if (!first) doc += ',';
      first = false;
      doc += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    };
    if (auto s = query("SELECT entity FROM services ORDER BY rowid", append); !s) return s.errors();
    doc += R"(],"routes":[)";
    first = true;
    if (auto s = query("SELECT entity FROM routes ORDER BY rowid", append); !s) return s.errors();
    doc += R"(],"upstreams":[)";
    first = true;
    if (auto s = query("SELECT entity FROM upstreams ORDER BY rowid", append); !s) return s.errors();
    doc += R"(],"targets":[)";
    first = true;
    if (auto s = query("SELECT entity FROM targets ORDER BY rowid", append); !s) return s.errors();
    doc += "]";
    // One pass over `entities` in rowid order (per kind, the rows come in config order), each
    // row to its kind's array: a query per kind would sort by rowid through the (kind, id) key.
    std::vector<std::string> arrays(std::size(kEntityKinds));
    auto collect = [&](sqlite3_stmt* st) {
      auto text = [st](int column) {  // text before bytes, as SQLite asks
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(st, column));
        return std::string_view(data, static_cast<std::size_t>(sqlite3_column_bytes(st, column)));
      };
      const std::string_view kind = text(0);
      for (std::size_t k = 0; k < arrays.size(); ++k) {
        if (kind != kEntityKinds[k]) continue;
        if (!arrays[k].empty()) arrays[k] += ',';
        arrays[k] += text(1);
        break;
      }
    };
    if (auto s = query("SELECT kind, entity FROM entities ORDER BY rowid", collect); !s)
      return s.errors();
    for (std::size_t k = 0; k < arrays.size(); ++k) {
      doc += ",\"";
      doc += kEntityKinds[k];
      doc += "\":[";
      doc += arrays[k];
      doc += "]";
    }
    doc += "}";
    auto config = config::parseDeclarative(doc);
    if (!config) {
      core::Errors errors;
      for (const auto& e : config.errors()) errors.push_back({"db: " + e.path, e.message});
      return errors;
    }
    return config;
  }

  core::Status replace(const core::Config& config) override {
    const auto& kinds = kindTables();
    if (!tablesCoverEveryKind())
      return core::Error{"db", "sqlite store: an entity kind has no table to be written to"};
    if (auto s = exec("BEGIN IMMEDIATE; DELETE FROM routes; DELETE FROM services;"
                      "DELETE FROM targets; DELETE FROM upstreams; DELETE FROM entities;");
        !s) {
      return s;
    }
    // Every entity as an appended row, written with the statements incremental writes use
    // (each prepared once, not once per row).
    const core::Config none;
    std::vector<RowChanges> rows;
    rows.reserve(kinds.size());
    for (const auto& k : kinds) rows.push_back(k.diff(none, config));
    auto s = writeChanges(kinds, rows);
    if (s) s = exec("COMMIT;");
    if (!s) exec("ROLLBACK;");
    return s;
  }

  core::Status apply(const core::Config& before, const core::Config& after) override {
    const auto& kinds = kindTables();
    if (!tablesCoverEveryKind()) return replace(after);
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
    if (auto s = exec("BEGIN IMMEDIATE;"); !s) return s;
    auto s = writeChanges(kinds, changes);
    if (s) s = exec("COMMIT;");
    if (s) return s;
    // A row statement failed (the file did not hold `before`, or swapped unique names): the
    // whole config is written instead, in a transaction of its own.
    exec("ROLLBACK;");
    core::log::debug("sqlite store: incremental write fell back to a rewrite",
                     {{"error", s.errorText()}});
    return replace(after);
  }

 private:
  // Only the changed rows (in the caller's transaction): deletions children first, then updates
  // and appends parents first, as the foreign keys require. Every UPDATE and DELETE must hit
  // exactly one row. A row whose place changed is moved to the end by giving it a new rowid
  // (deleting it would cascade to its children).
  core::Status writeChanges(const std::vector<KindTable>& kinds,
                            const std::vector<RowChanges>& changes) {
    Statements st(db_);
    for (std::size_t k = kinds.size(); k-- > 0;) {
      const std::string sql =
          std::string("DELETE FROM ") + kinds[k].table + " WHERE id = ?" + kinds[k].filter();
      for (const auto& id : changes[k].deleted)
        if (auto s = st.run(sql, id, true); !s) return s;
    }
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const auto& kind = kinds[k];
      // Parameters in column order: the columns, entity, id.
      auto update = [&](bool move) {
        std::string sql = std::string("UPDATE ") + kind.table + " SET ";
        for (const char* col : kind.columns) sql += std::string(col) + " = ?, ";
        sql += "entity = ?";
        if (move)
          sql += std::string(", rowid = (SELECT MAX(rowid) + 1 FROM ") + kind.table + ")";
        return sql + " WHERE id = ?" + kind.filter();
      };
      std::string insert = std::string("INSERT INTO ") + kind.table + " (";
      for (const char* col : kind.columns) insert += std::string(col) + ", ";
      insert += "entity, id) VALUES (";
      for (std::size_t n = 0; n < kind.columns.size(); ++n) insert += "?, ";
      insert += "?, ?)";
      const std::string updateSql = update(false), moveSql = update(true);
      for (const auto& row : changes[k].updated)
        if (auto s = st.run(updateSql, row, true); !s) return s;
      for (const auto& a : changes[k].appended)
        if (auto s = st.run(a.existed ? moveSql : insert, a.row, a.existed); !s) return s;
    }
    return core::Ok{};
  }

  // Prepared statements reused across the rows of one write.
  class Statements {
   public:
    explicit Statements(sqlite3* db) : db_(db) {}
    ~Statements() {
      for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    }
    Statements(const Statements&) = delete;
    Statements& operator=(const Statements&) = delete;

    // A row's columns, entity and id, bound in that order (not copied: SQLITE_STATIC).
    // `oneRow`: the statement must change exactly one row.
    core::Status run(const std::string& sql, const Row& row, bool oneRow) {
      sqlite3_stmt* st = prepared(sql);
      if (!st) return core::Error{"db", sqlite3_errmsg(db_)};
      int i = 1;
      for (const auto& c : row.columns) bind(st, i++, c ? &*c : nullptr);
      bind(st, i++, &row.json);
      bind(st, i, &row.id);
      return step(st, sql, row.id, oneRow);
    }
    // A statement whose one parameter is an id.
    core::Status run(const std::string& sql, const std::string& id, bool oneRow) {
      sqlite3_stmt* st = prepared(sql);
      if (!st) return core::Error{"db", sqlite3_errmsg(db_)};
      bind(st, 1, &id);
      return step(st, sql, id, oneRow);
    }

   private:
    sqlite3_stmt* prepared(const std::string& sql) {
      sqlite3_stmt*& st = cache_[sql];
      if (!st && sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return nullptr;
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      return st;
    }
    static void bind(sqlite3_stmt* st, int i, const std::string* text) {
      if (text)
        sqlite3_bind_text(st, i, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
      else
        sqlite3_bind_null(st, i);
    }
    core::Status step(sqlite3_stmt* st, const std::string& sql, const std::string& id,
                      bool oneRow) {
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return core::Error{"db", sqlite3_errmsg(db_)};
      if (oneRow && sqlite3_changes(db_) != 1)
        return core::Error{"db", "no row " + id + " to change: " + sql};
      return core::Ok{};
    }

    sqlite3* db_;
    std::map<std::string, sqlite3_stmt*> cache_;
  };

  core::Status exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return core::Error{"db", msg};
    }
    return core::Ok{};
  }

  core::Status query(const char* sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      return core::Error{"db", sqlite3_errmsg(db_)};
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return core::Error{"db", sqlite3_errmsg(db_)};
    return core::Ok{};
  }

  sqlite3* db_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> openSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return core::Error{"db", "cannot open " + path + ": " + msg};
  }
  auto store = std::make_unique<SqliteStore>(db);
  if (auto s = store->migrate(); !s) return s.errors();
  return std::unique_ptr<Store>(std::move(store));
}

core::Result<std::unique_ptr<Store>> open(const std::string& url) {
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
    return openPostgres(url);
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return core::Error{"db", "empty database path"};
  return openSqlite(path);
}

}  // namespace archway::store
