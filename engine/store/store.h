#pragma once
// The config store. SQLite is the embedded default (WAL mode); PostgreSQL lets several nodes
// share one configuration (architecture.md, "Stores and clusters"). Entities are rows keyed by
// id with their Kong JSON shape; reading back goes through the declarative validator, so a store
// can never hand the engine a config the Admin API or a kong.yml could not have produced.
#include <functional>
#include <memory>
#include <string>

#include "core/entities.h"
#include "core/result.h"

namespace archway::store {

class Store {
 public:
  virtual ~Store() = default;
  virtual core::Result<core::Config> load() = 0;
  // Replaces everything in one transaction.
  virtual core::Status replace(const core::Config& config) = 0;
  // Stores `after` where the database holds `before` (the config this Store last loaded or
  // wrote, as the caller knows it), writing only the rows that differ (INSERT/UPDATE/DELETE by
  // id and value, one transaction; PostgreSQL bumps the version and notifies once, and writes
  // nothing when nothing differs). Afterwards load() returns `after`, exactly as after
  // replace(after). Falls back to a whole rewrite inside the same transaction when the row
  // statements cannot express the change (e.g. swapped unique names), when most rows change
  // (POST /config), or when the database may not hold `before` (PostgreSQL: another node
  // wrote since this Store last read or wrote).
  virtual core::Status apply(const core::Config& before, const core::Config& after) {
    (void)before;
    return replace(after);
  }
  virtual bool empty() = 0;
  virtual int schemaVersion() = 0;

  // Change notification between nodes sharing one database. After watch(), `onChange` is called
  // on a store-owned thread whenever another writer (another node, or another Store on the same
  // database) has stored a config newer than the one this Store last wrote or loaded; the
  // argument describes the change, for logs. The callee reloads with load(); writes made through
  // this same Store never call back. Calls are coalesced, never concurrent, and may repeat a
  // change (e.g. after a reconnect) — reloading twice must be harmless. `onChange` must not
  // call unwatch(). Stores without other writers (SQLite: one process owns the file) never
  // call back, hence the no-op defaults.
  using ChangeCallback = std::function<void(const std::string& change)>;
  virtual void watch(ChangeCallback onChange) { (void)onChange; }
  // Stops watching; when it returns, `onChange` is not running and will not be called again.
  virtual void unwatch() {}
  // Whether the database answers, for GET /status ("database": {"reachable": ...}) and
  // /status/ready. PostgreSQL: the change watcher's connection (while watching; it reconnects
  // with backoff, so this turns true again within seconds of the server's return). Any thread;
  // never blocks. An embedded store (SQLite) is always reachable.
  virtual bool reachable() { return true; }
};

// Opens (creating if needed) and migrates an SQLite database file.
core::Result<std::unique_ptr<Store>> openSqlite(const std::string& path);

// Connects to and migrates a PostgreSQL database: "postgres://user:pass@host:port/db" (or
// "postgresql://", or any libpq connection string). Fails when the server cannot be reached.
core::Result<std::unique_ptr<Store>> openPostgres(const std::string& url);

// "sqlite:PATH", a bare path, or "postgres://..." / "postgresql://...".
core::Result<std::unique_ptr<Store>> open(const std::string& url);

}  // namespace archway::store
