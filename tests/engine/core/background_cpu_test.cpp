// core::BackgroundCpu: a scope runs its thread under SCHED_IDLE and restores the policy (and the
// nice value) after the outermost scope; a thread starved inside a scope is promoted back to
// SCHED_OTHER by the watcher; time spent sleeping inside a scope is not starvation; a long scope
// moves its thread into the idle cpu cgroup and back, a short one never moves.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "core/background_cpu.h"

using namespace archway;
using namespace std::chrono_literals;

namespace {

pid_t tid() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

bool pinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

// The cpu cgroup thread `t` of this process is in (v1's cpu line, else v2's).
std::string cpuCgroupOf(pid_t t) {
  std::ifstream in("/proc/self/task/" + std::to_string(t) + "/cgroup");
  std::string v2;
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::stringstream cs(controllers);
    for (std::string c; std::getline(cs, c, ',');)
      if (c == "cpu") return path;
    if (controllers.empty()) v2 = path;
  }
  return v2;
}

// Why the idle cgroup cannot be tested here; empty when it can.
std::string noIdleGroup(const core::BackgroundCpu& cpu) {
  if (!cpu.active()) return "this process may not leave SCHED_IDLE (needs CAP_SYS_NICE)";
  if (cpu.idleGroupPath().empty()) return "no idle cpu cgroup here: " + cpu.idleGroupWhy();
  return {};
}

// The idle cgroup's last path component, "/archway-background-PID-N".
std::string idleGroupName(const core::BackgroundCpu& cpu) {
  const std::string path = cpu.idleGroupPath();
  return path.substr(path.rfind('/'));
}

}  // namespace

class BackgroundCpuTest : public QObject {
  Q_OBJECT
 private slots:
  void scopesRunUnderIdleAndRestoreThePolicy() {
    core::BackgroundCpu cpu;
    if (!cpu.active()) QSKIP("this process may not leave SCHED_IDLE (needs CAP_SYS_NICE)");
    int result = -1;
    bool ok = true;
    std::thread t([&] {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid()), 5);
      {
        auto outer = cpu.enter();
        ok = ok && ::sched_getscheduler(0) == SCHED_IDLE;
        {
          auto inner = cpu.enter();
          ok = ok && ::sched_getscheduler(0) == SCHED_IDLE;
        }
        ok = ok && ::sched_getscheduler(0) == SCHED_IDLE;  // the inner scope ended, not the outer
      }
      result = ::sched_getscheduler(0);
      ok = ok && ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid())) == 5;
    });
    t.join();
    QVERIFY(ok);
    QCOMPARE(result, SCHED_OTHER);
    QCOMPARE(cpu.promotions(), std::uint64_t{0});
  }

  void aDisabledInstanceChangesNothing() {
    core::BackgroundCpu cpu(core::BackgroundCpu::Options{.enabled = false});
    QVERIFY(!cpu.active());
    auto scope = cpu.enter();
    QCOMPARE(::sched_getscheduler(0), SCHED_OTHER);
  }

  void schedStatCountsRunningTime() {
    auto before = core::BackgroundCpu::schedStat(tid());
    if (!before) QSKIP("the kernel keeps no schedstat");
    const auto until = std::chrono::steady_clock::now() + 30ms;
    volatile unsigned long spins = 0;
    while (std::chrono::steady_clock::now() < until) spins = spins + 1;
    auto after = core::BackgroundCpu::schedStat(tid());
    QVERIFY(after);
    QVERIFY(after->runNs > before->runNs);
  }

  // Two spinning threads and the scope's thread share one CPU: under SCHED_IDLE the scope's
  // thread hardly runs, so the watcher must promote it.
  void aStarvedScopeIsPromoted() {
    core::BackgroundCpu cpu(core::BackgroundCpu::Options{.starvedAfter = 20ms, .poll = 5ms});
    if (!cpu.active()) QSKIP("this process may not leave SCHED_IDLE (needs CAP_SYS_NICE)");
    const int where = ::sched_getcpu();
    std::atomic<bool> stop{false};
    std::atomic<int> pinned{0};
    std::vector<std::thread> spinners;
    for (int i = 0; i < 2; ++i) {
      spinners.emplace_back([&] {
        if (pinTo(where)) ++pinned;
        volatile unsigned long spins = 0;
        while (!stop.load(std::memory_order_relaxed)) spins = spins + 1;
      });
    }
    int policyAfterPromotion = -1;
    std::string cgroupAfterPromotion;
    std::thread scoped([&] {
      if (!pinTo(where)) return;
      auto scope = cpu.enter();
      const auto deadline = std::chrono::steady_clock::now() + 20s;  // a bound, not a measure
      while (cpu.promotions() == 0 && std::chrono::steady_clock::now() < deadline) {
      }
      policyAfterPromotion = ::sched_getscheduler(0);
      cgroupAfterPromotion = cpuCgroupOf(tid());
    });
    scoped.join();
    stop = true;
    for (auto& s : spinners) s.join();
    QCOMPARE(pinned.load(), 2);
    QCOMPARE(cpu.promotions(), std::uint64_t{1});
    QCOMPARE(policyAfterPromotion, SCHED_OTHER);
    // Promoted out of the idle cgroup too, if it had moved there.
    QVERIFY(cgroupAfterPromotion.find("/archway-background-") == std::string::npos);
  }

  // Sleeping is not waiting for a CPU: a scope that sleeps well past starvedAfter stays idle,
  // unless the machine really kept the thread waiting that long (then there is nothing to see).
  void sleepingInAScopeIsNotStarvation() {
    core::BackgroundCpu cpu(core::BackgroundCpu::Options{.starvedAfter = 50ms, .poll = 5ms});
    if (!cpu.active()) QSKIP("this process may not leave SCHED_IDLE (needs CAP_SYS_NICE)");
    if (!core::BackgroundCpu::schedStat(tid())) QSKIP("the kernel keeps no schedstat");
    std::uint64_t waited = 0;
    int policy = -1;
    std::thread t([&] {
      const auto before = core::BackgroundCpu::schedStat(tid());
      {
        auto scope = cpu.enter();
        std::this_thread::sleep_for(250ms);
        policy = ::sched_getscheduler(0);
      }
      waited = core::BackgroundCpu::schedStat(tid())->waitNs - before->waitNs;
    });
    t.join();
    if (waited >= 50'000'000) QSKIP("this machine kept the thread waiting 50 ms for a CPU");
    QCOMPARE(cpu.promotions(), std::uint64_t{0});
    QCOMPARE(policy, SCHED_IDLE);
  }

  void aLongScopeRunsInTheIdleCgroupAndComesBack() {
    core::BackgroundCpu cpu(core::BackgroundCpu::Options{.poll = 5ms, .idleGroupAfter = 10ms});
    if (const auto why = noIdleGroup(cpu); !why.empty()) QSKIP(why.c_str());
    const std::string group = idleGroupName(cpu);
    std::string before, inside, after;
    std::thread t([&] {
      before = cpuCgroupOf(tid());
      {
        auto scope = cpu.enter();
        const auto deadline = std::chrono::steady_clock::now() + 20s;  // a bound, not a measure
        while (cpu.idleGroupMoves() == 0 && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(1ms);
        inside = cpuCgroupOf(tid());
      }
      after = cpuCgroupOf(tid());
    });
    t.join();
    QCOMPARE(cpu.idleGroupMoves(), std::uint64_t{1});
    QVERIFY2(inside.ends_with(group), inside.c_str());
    QVERIFY2(!before.ends_with(group), before.c_str());
    QCOMPARE(after, before);
  }

  void aShortScopeStaysWhereItIs() {
    core::BackgroundCpu cpu(core::BackgroundCpu::Options{.poll = 5ms, .idleGroupAfter = 10s});
    if (const auto why = noIdleGroup(cpu); !why.empty()) QSKIP(why.c_str());
    std::string inside;
    std::thread t([&] {
      auto scope = cpu.enter();
      std::this_thread::sleep_for(50ms);  // several polls, all before idleGroupAfter
      inside = cpuCgroupOf(tid());
    });
    t.join();
    QCOMPARE(cpu.idleGroupMoves(), std::uint64_t{0});
    QVERIFY(!inside.ends_with(idleGroupName(cpu)));
  }

  void aDisabledIdleGroupIsNotCreated() {
    core::BackgroundCpu cpu(core::BackgroundCpu::Options{.idleGroup = false});
    QVERIFY(cpu.idleGroupPath().empty());
  }
};

QTEST_APPLESS_MAIN(BackgroundCpuTest)
#include "background_cpu_test.moc"
