// core::applySessionMode: `own` starts a session of its own, `inherit` never does, `auto` does
// only when standard input is not a terminal, and a process-group leader keeps its session
// whatever the mode. Each case runs in a forked child, since a session cannot be left again.
#include <QtTest>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/session.h"

using namespace archway;

namespace {

// Runs `body` in a child process (not a process-group leader) and returns its exit code;
// 0 means every check in the child held, another value names the first that failed.
template <typename F>
int inChild(F body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 100;
  return WEXITSTATUS(status);
}

bool stdinFrom(int fd) {
  return fd >= 0 && ::dup2(fd, STDIN_FILENO) == STDIN_FILENO;
}

}  // namespace

class SessionTest : public QObject {
  Q_OBJECT
 private slots:
  void parsesTheFlagValues() {
    QCOMPARE(core::parseSessionMode("auto"), std::optional{core::SessionMode::automatic});
    QCOMPARE(core::parseSessionMode("own"), std::optional{core::SessionMode::own});
    QCOMPARE(core::parseSessionMode("inherit"), std::optional{core::SessionMode::inherit});
    QVERIFY(!core::parseSessionMode("yes"));
    QVERIFY(!core::parseSessionMode(""));
  }

  void ownStartsANewSession() {
    QCOMPARE(inChild([] {
               const pid_t before = ::getsid(0);
               if (before == ::getpid()) return 1;  // the child must not lead one already
               auto out = core::applySessionMode(core::SessionMode::own);
               if (!out.newSession) return 2;
               if (::getsid(0) != ::getpid() || ::getpgrp() != ::getpid()) return 3;
               return 0;
             }),
             0);
  }

  void inheritKeepsTheSession() {
    QCOMPARE(inChild([] {
               const pid_t before = ::getsid(0);
               auto out = core::applySessionMode(core::SessionMode::inherit);
               if (out.newSession || out.reason.empty()) return 1;
               return ::getsid(0) == before ? 0 : 2;
             }),
             0);
  }

  void autoDetachesWithoutATerminal() {
    QCOMPARE(inChild([] {
               if (!stdinFrom(::open("/dev/null", O_RDONLY))) return 1;
               auto out = core::applySessionMode(core::SessionMode::automatic);
               if (!out.newSession) return 2;
               return ::getsid(0) == ::getpid() ? 0 : 3;
             }),
             0);
  }

  void autoStaysWithATerminal() {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
      QSKIP("no pseudo-terminal available here");
    const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    QVERIFY(slave >= 0);
    QCOMPARE(inChild([slave] {
               const pid_t before = ::getsid(0);
               if (!stdinFrom(slave)) return 1;
               auto out = core::applySessionMode(core::SessionMode::automatic);
               if (out.newSession) return 2;
               if (out.reason != "standard input is a terminal") return 3;
               return ::getsid(0) == before ? 0 : 4;
             }),
             0);
    ::close(slave);
    ::close(master);
  }

  void aProcessGroupLeaderKeepsItsSession() {
    QCOMPARE(inChild([] {
               if (::setpgid(0, 0) != 0) return 1;
               const pid_t before = ::getsid(0);
               auto out = core::applySessionMode(core::SessionMode::own);
               if (out.newSession) return 2;
               if (out.reason != "a process-group leader keeps its session") return 3;
               return ::getsid(0) == before ? 0 : 4;
             }),
             0);
  }
};

QTEST_APPLESS_MAIN(SessionTest)
#include "session_test.moc"
