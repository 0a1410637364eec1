// core::IdleCgroup: the group is created beside the process's cpu cgroup with cpu.idle = 1,
// threads move in and back, the directory goes with the object, and directories left by
// processes that exited are removed by the next one. Needs a writable cpu cgroup (root on
// cgroup v1, or a delegated v2 subtree); elsewhere the tests say so and skip.
#include <QtTest>

#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/idle_cgroup.h"

using namespace archway;

namespace {

pid_t tid() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

std::string slurp(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

// Whether thread `t` of this process is listed in the group's threads file.
bool holds(const std::string& dir, pid_t t) {
  const std::string file = exists(dir + "/tasks") ? dir + "/tasks" : dir + "/cgroup.threads";
  std::istringstream in(slurp(file));
  for (std::string line; std::getline(in, line);)
    if (line == std::to_string(t)) return true;
  return false;
}

}  // namespace

class IdleCgroupTest : public QObject {
  Q_OBJECT
 private slots:
  void aThreadMovesInAndBack() {
    std::string why;
    auto group = core::IdleCgroup::create(&why);
    if (!group) QSKIP(("no writable cpu cgroup here: " + why).c_str());
    const std::string path = group->path();
    QVERIFY(path.find("/archway-background-" + std::to_string(::getpid()) + "-") !=
            std::string::npos);
    QCOMPARE(slurp(path + "/cpu.idle"), std::string("1\n"));
    QVERIFY(group->enter(tid()));
    QVERIFY(holds(path, tid()));
    QVERIFY(!holds(group->home(), tid()));
    QVERIFY(group->leave(tid()));
    QVERIFY(!holds(path, tid()));
    QVERIFY(holds(group->home(), tid()));
    group.reset();
    QVERIFY(!exists(path));
  }

  void directoriesOfExitedProcessesAreRemoved() {
    std::string why;
    auto group = core::IdleCgroup::create(&why);
    if (!group) QSKIP(("no writable cpu cgroup here: " + why).c_str());
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    QVERIFY(child > 0);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);  // reaped: the pid names no process now
    const std::string stale = group->home() + "/archway-background-" + std::to_string(child) + "-0";
    QCOMPARE(::mkdir(stale.c_str(), 0755), 0);
    const std::string live = group->home() + "/archway-background-1-0";  // init: still running
    const bool madeLive = ::mkdir(live.c_str(), 0755) == 0;
    group.reset();
    auto again = core::IdleCgroup::create(&why);
    QVERIFY2(again, why.c_str());
    QVERIFY(!exists(stale));
    if (madeLive) {
      QVERIFY(exists(live));
      ::rmdir(live.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(IdleCgroupTest)
#include "idle_cgroup_test.moc"
