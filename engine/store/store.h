#pragma once
// The config store. SQLite is the embedded default (WAL mode); PostgreSQL (clusters) arrives
// with the control-plane issue behind the same interface. Entities are rows keyed by id with
// their Kong JSON shape; reading back goes through the declarative validator, so a store can
// never hand the engine a config the Admin API or a kong.yml could not have produced.
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
  virtual bool empty() = 0;
  virtual int schemaVersion() = 0;
};

// Opens (creating if needed) and migrates an SQLite database file.
core::Result<std::unique_ptr<Store>> openSqlite(const std::string& path);

// "sqlite:PATH" or a bare path; "postgres://..." is refused until the PostgreSQL store exists.
core::Result<std::unique_ptr<Store>> open(const std::string& url);

}  // namespace archway::store
