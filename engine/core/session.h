#pragma once
// Which session (and so which scheduling autogroup) the headless daemon runs in.
//
// Linux with CONFIG_SCHED_AUTOGROUP (sched_autogroup_enabled=1, the default on Debian) shares
// the CPU first between sessions, then between the processes of one session (sched(7),
// "The autogroup feature"). A daemon normally has a session of its own: nginx and HAProxy
// detach with setsid() when they daemonize, systemd starts every service in a new session. A
// gateway started in the background by a script shares the script's session with whatever
// else the script runs, a load generator for example, and the kernel then weighs gateway and
// load generator together as one group against the upstream's group: measured on a 2-core
// machine, the worker is preempted about 5 times as often and the proxy does ~10% fewer
// requests per second than in a session of its own, with the same CPU time per request.
//
//   automatic  a new session when standard input is not a terminal (systemd, scripts, CI,
//              benchmarks); a process a user started at a terminal stays in the terminal's
//              job control, so Ctrl-C and hang-ups still reach it.
//   own        a new session whenever possible.
//   inherit    never: the caller's session.
// setsid() fails for a process-group leader (an interactive shell's job, a systemd service
// that already has its own session); the process then keeps the session it has.
#include <optional>
#include <string>
#include <string_view>

namespace archway::core {

enum class SessionMode { automatic, own, inherit };

std::optional<SessionMode> parseSessionMode(std::string_view text);  // auto|own|inherit

struct SessionOutcome {
  bool newSession = false;  // setsid() succeeded
  std::string reason;       // why not, when it did not: for a debug log line
};

SessionOutcome applySessionMode(SessionMode mode);

}  // namespace archway::core
