#include "core/session.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace archway::core {

std::optional<SessionMode> parseSessionMode(std::string_view text) {
  if (text == "auto") return SessionMode::automatic;
  if (text == "own") return SessionMode::own;
  if (text == "inherit") return SessionMode::inherit;
  return std::nullopt;
}

SessionOutcome applySessionMode(SessionMode mode) {
  if (mode == SessionMode::inherit) return {false, "--session inherit"};
  if (mode == SessionMode::automatic && isatty(STDIN_FILENO))
    return {false, "standard input is a terminal"};
  if (getsid(0) == getpid()) return {false, "already a session leader"};
  if (setsid() < 0) {
    if (errno == EPERM) return {false, "a process-group leader keeps its session"};
    return {false, std::string("setsid: ") + std::strerror(errno)};
  }
  return {true, {}};
}

}  // namespace archway::core
