#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/log_writer.h"

namespace archway::core {

void appendJsonEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
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
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

}  // namespace archway::core

namespace archway::core::log {
namespace {

std::atomic<Level> gLevel{Level::info};
std::atomic<bool> gExiting{false};
std::atomic<Writer*> gWriter{nullptr};  // set once writer() made it

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error", "off"};

// The process's log thread, made on first use and never destroyed: records logged from static
// destructors or late threads still have somewhere to go. At exit, what is queued is written
// out, and from then on every write() waits for its record to be written.
Writer& writer() {
  static Writer* w = [] {
    auto* made = new Writer();
    gWriter.store(made, std::memory_order_release);
    std::atexit([] {
      gExiting.store(true, std::memory_order_relaxed);
      writer().flush(std::chrono::seconds(2));
    });
    return made;
  }();
  return *w;
}

}  // namespace

void setLevel(Level l) {
  gLevel.store(l, std::memory_order_relaxed);
}
Level level() {
  return gLevel.load(std::memory_order_relaxed);
}

std::string_view levelName(Level l) {
  const auto i = static_cast<std::size_t>(l);
  return i < std::size(kNames) ? kNames[i] : std::string_view("off");
}

bool parseLevel(std::string_view text, Level& out) {
  for (int i = 0; i < 5; ++i) {
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

namespace {

// Stamps and queues a record whose fields are filled in.
void submit(Level l, std::string_view message, Record& r) {
  r.timeUs = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  r.level = l;
  r.message.assign(message);
  Writer& w = writer();
  w.push(r);
  if (gExiting.load(std::memory_order_relaxed)) w.flush(std::chrono::seconds(2));
}

}  // namespace

void write(Level l, std::string_view message, std::initializer_list<Field> fields) {
  if (l < level() || l == Level::off) return;
  Record r;
  r.fields.reserve(fields.size());
  for (const auto& [k, v] : fields) r.fields.emplace_back(std::string(k), v);
  submit(l, message, r);
}

void writeFields(Level l, std::string_view message,
                 std::vector<std::pair<std::string, std::string>> fields) {
  if (l < level() || l == Level::off) return;
  Record r;
  r.fields = std::move(fields);
  submit(l, message, r);
}

std::vector<Record> recent(std::size_t limit, Level minLevel) {
  Writer* w = gWriter.load(std::memory_order_acquire);
  return w ? w->recent(limit, minLevel) : std::vector<Record>{};
}

std::vector<Record> recentSince(std::size_t limit, Level minLevel, std::uint64_t since,
                                std::uint64_t& newest) {
  newest = 0;
  Writer* w = gWriter.load(std::memory_order_acquire);
  return w ? w->recent(limit, minLevel, since, &newest) : std::vector<Record>{};
}

std::string setFile(const std::string& path) { return writer().setFile(path); }
bool flush(std::chrono::milliseconds timeout) {
  Writer* w = gWriter.load(std::memory_order_acquire);
  return !w || w->flush(timeout);  // nothing was ever logged: nothing to wait for
}
std::uint64_t dropped() {
  Writer* w = gWriter.load(std::memory_order_acquire);
  return w ? w->dropped() : 0;
}
int subscribe(Subscriber subscriber) { return writer().subscribe(std::move(subscriber)); }
void unsubscribe(int token) { writer().unsubscribe(token); }

}  // namespace archway::core::log
