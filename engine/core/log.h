#pragma once
// Structured JSON logging (the error log). Errors and lifecycle events only. A calling thread
// (a proxy worker on an error path, the control thread, ...) checks the level, builds the record
// and pushes it into a bounded lock-free queue; it never takes a lock, never writes. The log
// thread (core/log_writer.h) formats each record as one JSON line for the sink (stderr, or the
// file of setFile()) and hands it to the subscribers (the console's error log page). A full
// queue drops the record and counts it; the log thread then writes a "log records dropped" line.
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// "debug", "info", ...; "off" for Level::off.
std::string_view levelName(Level level);

using Field = std::pair<std::string_view, std::string>;
// Any thread; never blocks. Records below level() are not built at all.
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

// One log record as the log thread hands it to the sink and to subscribers.
struct Record {
  std::int64_t timeUs = 0;  // wall clock when write() was called, microseconds since the epoch
  Level level = Level::info;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
};

// write() with fields made at run time (a varying set). Any thread; never blocks.
void writeFields(Level level, std::string_view message,
                 std::vector<std::pair<std::string, std::string>> fields);

// The newest records the log thread handled (at most kRecentCapacity are kept, by the log
// thread, after it wrote them), oldest first: the last `limit` of those at `minLevel` or above.
// Any thread (a short lock shared only with the log thread). GET /archway/logs/error.
inline constexpr std::size_t kRecentCapacity = 1000;
std::vector<Record> recent(std::size_t limit, Level minLevel = Level::debug);

// Where the JSON lines go: "" or "-" for stderr (the default), else a file appended to (Kong's
// proxy_error_log). What was queued before goes to the previous sink. On error (the file cannot
// be opened) the sink stays as it was and the error text is returned; "" on success.
std::string setFile(const std::string& path);
// Blocks until every record written before the call reached the sink and the subscribers, or
// `timeout` passed (then false). Engine::stop() and process exit call it.
bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));
// Records dropped because the queue was full, since the process started.
std::uint64_t dropped();

// Every record from now on, on the log thread, in queue order. The callback must not block and
// must not call subscribe()/unsubscribe() (it may log). Returns a token for unsubscribe(), after
// which the callback is not running and is never called again. Any thread.
using Subscriber = std::function<void(const Record&)>;
int subscribe(Subscriber subscriber);
void unsubscribe(int token);

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
