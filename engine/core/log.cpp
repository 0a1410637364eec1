#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

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
std::mutex gWriteMutex;

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error", "off"};

}  // namespace

void setLevel(Level l) {
  gLevel.store(l, std::memory_order_relaxed);
}
Level level() {
  return gLevel.load(std::memory_order_relaxed);
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

void write(Level l, std::string_view message, std::initializer_list<Field> fields) {
  if (l < level() || l == Level::off) return;
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
  std::string line;
  line.reserve(128);
  char ts[32];
  std::snprintf(ts, sizeof ts, "%.3f", now.count());
  line += "{\"time\":";
  line += ts;
  line += ",\"level\":\"";
  line += kNames[static_cast<int>(l)];
  line += "\",\"message\":\"";
  core::appendJsonEscaped(line, message);
  line += '"';
  for (const auto& [k, v] : fields) {
    line += ",\"";
    core::appendJsonEscaped(line, k);
    line += "\":\"";
    core::appendJsonEscaped(line, v);
    line += '"';
  }
  line += "}\n";
  std::lock_guard lock(gWriteMutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace archway::core::log
