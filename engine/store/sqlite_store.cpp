#include <sqlite3.h>

#include <boost/json/serialize.hpp>
#include <algorithm>
#include <functional>
#include <map>

#include "config/declarative.h"
#include "config/json_shapes.h"
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

// ---- Incremental writes (apply()) ------------------------------------------------------------
// Every kind with its table and the columns besides id and entity (rows keep config order by
// rowid). apply() diffs the kinds listed here; when a kind of kEntityKinds is missing here it
// rewrites everything, as replace() does, so a new kind is never silently left unwritten.
using Columns = std::vector<std::optional<std::string>>;

struct KindTable {
  const char* key;
  const char* table;
  std::vector<const char*> columns;
  std::function<RowChanges(const core::Config& before, const core::Config& after)> diff;
  std::function<std::size_t(const core::Config&)> count;
  // The shared `entities` table is filtered by kind (keys are constants).
  std::string filter() const {
    return std::string_view(table) == key ? std::string() : std::string(" AND kind = '") + key + "'";
  }
};

template <class T, class ColumnsOf>
KindTable kindTable(const char* key, const char* table, std::vector<const char*> columns,
                    std::vector<T> core::Config::*member, ColumnsOf columnsOf) {
  return {key, table, std::move(columns),
          [member, columnsOf](const core::Config& before, const core::Config& after) {
            return diffRows(before.*member, after.*member,
                            [&](const T& e) { return rowOf(e, columnsOf); });
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

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  core::Status migrate() {
    if (auto s = exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
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
    for (const char* kind : kEntityKinds) {
      doc += ",\"";
      doc += kind;
      doc += "\":[";
      first = true;
      const std::string sql =
          std::string("SELECT entity FROM entities WHERE kind = '") + kind + "' ORDER BY rowid";
      if (auto s = query(sql.c_str(), append); !s) return s.errors();
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
    if (auto s = exec("BEGIN IMMEDIATE; DELETE FROM routes; DELETE FROM services;"
                      "DELETE FROM targets; DELETE FROM upstreams; DELETE FROM entities;");
        !s) {
      return s;
    }
    auto fail = [&](core::Status s) {
      exec("ROLLBACK;");
      return s;
    };
    for (const auto& svc : config.services) {
      std::string json = boost::json::serialize(config::toJson(svc));
      if (auto s = insert("INSERT INTO services (id, name, entity) VALUES (?, ?, ?)", svc.id,
                          svc.name, std::nullopt, json);
          !s) {
        return fail(s);
      }
    }
    for (const auto& r : config.routes) {
      std::string json = boost::json::serialize(config::toJson(r));
      if (auto s = insert("INSERT INTO routes (id, name, service_id, entity) VALUES (?, ?, ?, ?)",
                          r.id, r.name, r.serviceId, json);
          !s) {
        return fail(s);
      }
    }
    for (const auto& u : config.upstreams) {
      std::string json = boost::json::serialize(config::toJson(u));
      if (auto s = insert("INSERT INTO upstreams (id, name, entity) VALUES (?, ?, ?)", u.id, u.name,
                          std::nullopt, json);
          !s) {
        return fail(s);
      }
    }
    for (const auto& t : config.targets) {
      std::string json = boost::json::serialize(config::toJson(t));
      if (auto s = insert("INSERT INTO targets (id, upstream_id, target, entity) VALUES (?, ?, ?, ?)",
                          t.id, t.upstreamId, t.target, json);
          !s) {
        return fail(s);
      }
    }
    auto put = [&](const char* kind, const std::string& id, const boost::json::object& o) {
      return insert("INSERT INTO entities (id, kind, ref, entity) VALUES (?, ?, ?, ?)", id, kind,
                    std::nullopt, boost::json::serialize(o));
    };
    for (const auto& c : config.consumers)
      if (auto s = put("consumers", c.id, config::toJson(c)); !s) return fail(s);
    for (const auto& k : config.keyauthCredentials)
      if (auto s = put("keyauth_credentials", k.id, config::toJson(k)); !s) return fail(s);
    for (const auto& b : config.basicauthCredentials)
      if (auto s = put("basicauth_credentials", b.id, config::toJson(b)); !s) return fail(s);
    for (const auto& j : config.jwtSecrets)
      if (auto s = put("jwt_secrets", j.id, config::toJson(j)); !s) return fail(s);
    for (const auto& a : config.acls)
      if (auto s = put("acls", a.id, config::toJson(a)); !s) return fail(s);
    for (const auto& p : config.plugins)
      if (auto s = put("plugins", p.id, config::toJson(p)); !s) return fail(s);
    for (const auto& c : config.certificates)
      if (auto s = put("certificates", c.id, config::toJson(c)); !s) return fail(s);
    for (const auto& n : config.snis)
      if (auto s = put("snis", n.id, config::toJson(n)); !s) return fail(s);
    for (const auto& c : config.caCertificates)
      if (auto s = put("ca_certificates", c.id, config::toJson(c)); !s) return fail(s);
    return exec("COMMIT;");
  }

  core::Status apply(const core::Config& before, const core::Config& after) override {
    const auto& kinds = kindTables();
    for (const char* key : kEntityKinds) {
      if (std::none_of(kinds.begin(), kinds.end(),
                       [&](const KindTable& k) { return std::string_view(k.key) == key; }))
        return replace(after);
    }
    std::vector<RowChanges> changes;
    changes.reserve(kinds.size());
    std::size_t changed = 0, rows = 0;
    for (const auto& k : kinds) {
      changes.push_back(k.diff(before, after));
      changed += changes.back().count();
      rows += k.count(after);
    }
    if (changed == 0) return core::Ok{};
    if (rewriteIsCheaper(changed, rows)) return replace(after);
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
        if (auto s = st.run(sql, {id}, true); !s) return s;
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
      auto params = [](const Row& row) {
        Columns p = row.columns;
        p.push_back(row.json);
        p.push_back(row.id);
        return p;
      };
      const std::string updateSql = update(false), moveSql = update(true);
      for (const auto& row : changes[k].updated)
        if (auto s = st.run(updateSql, params(row), true); !s) return s;
      for (const auto& a : changes[k].appended)
        if (auto s = st.run(a.existed ? moveSql : insert, params(a.row), a.existed); !s) return s;
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

    // `oneRow`: the statement must change exactly one row.
    core::Status run(const std::string& sql, const Columns& params, bool oneRow) {
      sqlite3_stmt*& st = cache_[sql];
      if (!st && sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        return core::Error{"db", sqlite3_errmsg(db_)};
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      int i = 1;
      for (const auto& p : params) {
        if (p)
          sqlite3_bind_text(st, i++, p->c_str(), static_cast<int>(p->size()), SQLITE_STATIC);
        else
          sqlite3_bind_null(st, i++);
      }
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return core::Error{"db", sqlite3_errmsg(db_)};
      if (oneRow && sqlite3_changes(db_) != 1)
        return core::Error{"db", "no row " + (params.empty() || !params.back() ? std::string()
                                                                               : *params.back()) +
                                     " to change: " + sql};
      return core::Ok{};
    }

   private:
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

  // Binds up to four text parameters (3 fixed + optional middle one) and steps once.
  core::Status insert(const char* sql, const std::string& id,
                      const std::optional<std::string>& name, const std::optional<std::string>& ref,
                      const std::string& json) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      return core::Error{"db", sqlite3_errmsg(db_)};
    }
    int i = 1;
    sqlite3_bind_text(st, i++, id.c_str(), -1, SQLITE_TRANSIENT);
    if (name)
      sqlite3_bind_text(st, i++, name->c_str(), -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(st, i++);
    if (sqlite3_bind_parameter_count(st) == 4) {
      if (ref)
        sqlite3_bind_text(st, i++, ref->c_str(), -1, SQLITE_TRANSIENT);
      else
        sqlite3_bind_null(st, i++);
    }
    sqlite3_bind_text(st, i, json.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
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
