#pragma once
// Structured JSON logging. Errors and lifecycle events only: the request path never logs
// synchronously (the access log is a later, asynchronous sink).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace archway::core {

// Appends `s` escaped for a JSON string literal (without the quotes): quote, backslash and
// control characters. Shared by the logs, the access log and plugins that write JSON.
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace archway::core

namespace archway::core::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void setLevel(Level level);
Level level();
// Parses "debug", "info", "warn", "error", "off"; false when unknown.
bool parseLevel(std::string_view text, Level& out);

using Field = std::pair<std::string_view, std::string>;
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::error, m, f);
}

}  // namespace archway::core::log
