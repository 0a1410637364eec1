#include "runtime/config_source.h"

#include <cstdlib>
#include <filesystem>

#include "config/declarative.h"
#include "store/store.h"

namespace archway::runtime {

std::string defaultDataDir() {
  std::filesystem::path dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    dir = std::filesystem::path(xdg) / "archway";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::filesystem::path(home) / ".local" / "share" / "archway";
  } else {
    dir = std::filesystem::temp_directory_path() / "archway";
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return dir.string();
}

std::string defaultDatabasePath() {
  return defaultDataDir() + "/archway.db";
}

core::Result<core::Config> loadInitialConfig(const ConfigSource& source) {
  if (!source.configFile.empty()) return config::loadDeclarativeFile(source.configFile);
  std::string url = source.db.empty() ? "sqlite:" + defaultDatabasePath() : source.db;
  auto store = store::open(url);
  if (!store) return core::Error{"db", store.errors().front().message};
  if ((*store)->empty() && !source.seedYaml.empty()) {
    auto seed = config::parseDeclarative(source.seedYaml);
    if (!seed) return seed.errors();
    if (auto s = (*store)->replace(*seed); !s) return core::Error{"db", s.errorText()};
  }
  auto loaded = (*store)->load();
  if (!loaded) return core::Error{"db", loaded.errorText()};
  return loaded;
}

}  // namespace archway::runtime
