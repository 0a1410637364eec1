#pragma once
// Heavy control-plane work (an Admin API request that builds a 10,000-route snapshot, a store
// reload, a stats merge after one) competes with the workers for the same cores. A nice value
// only weighs the competition; under SCHED_IDLE a thread runs only on CPU nobody else wants, so
// a worker that wakes never waits behind it. SCHED_IDLE alone would starve that work while the
// proxy is saturated, so a watcher thread reads how long each such thread has waited for a CPU
// (/proc/self/task/TID/schedstat) and returns a thread that waited `starvedAfter` in one scope
// to SCHED_OTHER (at its nice value) for the rest of it: under full load the work is late by
// about that much, never indefinitely.
//
// SCHED_IDLE yields only to the process's own threads (the kernel schedules groups first: see
// core/idle_cgroup.h). A scope still open after `idleGroupAfter` (a reload, not a GET) also
// moves its thread into an idle cpu cgroup, where it yields to every other process's threads
// too, and back when it ends or is promoted. Short scopes never move: a move costs ~0.2 ms.
// Without a writable cpu cgroup the scopes keep to SCHED_IDLE.
//
// Leaving SCHED_IDLE needs CAP_SYS_NICE or an RLIMIT_NICE that allows the thread's nice value
// (`ulimit -e`; sched(7)). Without it the class checks once and does nothing: scopes keep the
// thread's policy as it was (a nice value set elsewhere still applies).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>

namespace archway::core {

class BackgroundCpu {
 public:
  struct Options {
    // Time a scope's thread may wait for a CPU before it leaves SCHED_IDLE.
    std::chrono::milliseconds starvedAfter{50};
    // How often the watcher looks while a scope is open.
    std::chrono::milliseconds poll{10};
    // Off: scopes do nothing (e.g. --background-cpu nice).
    bool enabled = true;
    // Scopes open this long move their thread into the idle cgroup (when there is one).
    std::chrono::milliseconds idleGroupAfter{10};
    bool idleGroup = true;
  };

  BackgroundCpu();  // default Options
  explicit BackgroundCpu(Options options);
  ~BackgroundCpu();
  BackgroundCpu(const BackgroundCpu&) = delete;
  BackgroundCpu& operator=(const BackgroundCpu&) = delete;

  // The calling thread runs under SCHED_IDLE until the scope ends or it has waited too long.
  // Nested scopes on one thread act as the outermost one.
  class Scope {
   public:
    Scope(Scope&& other) noexcept : owner_(other.owner_), tid_(other.tid_) { other.owner_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope();

   private:
    friend class BackgroundCpu;
    Scope(BackgroundCpu* owner, pid_t tid) : owner_(owner), tid_(tid) {}
    BackgroundCpu* owner_;
    pid_t tid_;
  };
  [[nodiscard]] Scope enter();

  // Whether scopes change anything here (the probe at construction could leave SCHED_IDLE).
  bool active() const { return active_; }
  // Scopes whose thread was returned to SCHED_OTHER because it waited too long.
  std::uint64_t promotions() const;
  // The idle cgroup's directory, empty when there is none (`idleGroupWhy()` says why).
  std::string idleGroupPath() const;
  const std::string& idleGroupWhy() const { return idleGroupWhy_; }
  // Scopes whose thread moved into the idle cgroup.
  std::uint64_t idleGroupMoves() const;

  // Nanoseconds the thread has run and waited on a run queue (schedstat); nullopt when the
  // kernel does not keep them.
  struct SchedStat {
    std::uint64_t runNs = 0, waitNs = 0;
  };
  static std::optional<SchedStat> schedStat(pid_t tid);

 private:
  // Where a scope's thread is with respect to the idle cgroup. The scope's thread never takes
  // mutex_ while it may be in the group (there it can wait seconds for a CPU, and the watcher
  // and every other scope would wait behind it): it leaves by exchanging this state alone.
  enum Group : int {
    kOut,       // not in the group
    kMovingIn,  // the watcher is moving it in (under mutex_)
    kIn,        // in the group
    kLeaving,   // the scope ended: the watcher leaves it alone
  };
  struct Open {
    std::uint64_t waitAtEnter = 0;
    std::chrono::steady_clock::time_point since;
    std::atomic<bool> promoted{false};
    std::atomic<int> group{kOut};
  };
  void leave(pid_t tid);
  void watch();

  Options options_;
  bool active_ = false;
  mutable std::mutex mutex_;  // open_ and the watcher's moves; never taken inside the group
  std::condition_variable wake_;
  std::map<pid_t, Open> open_;  // nodes stay put: a scope's thread keeps a pointer to its own
  static thread_local Open* current_;  // the outermost open scope of this thread
  std::atomic<std::uint64_t> promotions_{0};
  // Removed with this object; a scope still open then (its thread ends with the engine) keeps
  // the directory, and the next process removes it.
  std::unique_ptr<class IdleCgroup> idleGroup_;
  std::string idleGroupWhy_;
  std::atomic<std::uint64_t> idleGroupMoves_{0};
  bool stop_ = false;
  std::thread watcher_;
};

}  // namespace archway::core
