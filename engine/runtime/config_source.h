#pragma once
// Where the initial configuration comes from: a declarative file (--config), or a store
// (--db sqlite:PATH; the console's default is the SQLite database in its data directory,
// seeded with the demo configuration when empty).
#include <string>

#include "core/entities.h"
#include "core/result.h"

namespace archway::runtime {

struct ConfigSource {
  std::string configFile;  // kong.yml / JSON; wins over db
  std::string db;          // "sqlite:PATH", a bare PATH, or "postgres://..."
  std::string seedYaml;    // declarative text stored into an empty database
};

// Errors name the flag or the field path ("--db: ...", "services[0].url: ...").
core::Result<core::Config> loadInitialConfig(const ConfigSource& source);

// $XDG_DATA_HOME/archway, or ~/.local/share/archway; created if missing.
std::string defaultDataDir();
std::string defaultDatabasePath();  // defaultDataDir() + "/archway.db"

}  // namespace archway::runtime
