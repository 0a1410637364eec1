#pragma once
// A cpu cgroup with `cpu.idle` set (Linux 5.15+), beside the process's own, for threads doing
// heavy background work. SCHED_IDLE only yields to the process's own threads: the kernel
// schedules groups first (a session's autogroup, a service's cgroup), and a group whose one
// runnable thread is SCHED_IDLE still holds its CPU against another process's thread that wakes
// there (an upstream, a load generator) until the next tick, 4 ms at HZ=250. An idle *group* is
// preempted by any other group's thread at once.
//
// Needs a writable cpu cgroup: cgroup v1's cpu hierarchy (threads move one by one through
// `tasks`), or cgroup v2 with a delegated subtree (the child is made `threaded`, threads move
// through `cgroup.threads`). Elsewhere create() says why and the caller does without.
#include <memory>
#include <string>
#include <sys/types.h>

namespace archway::core {

class IdleCgroup {
 public:
  // A group of this process's (`archway-background-PID-N` under its cpu cgroup), created with
  // cpu.idle = 1, or nullptr with the reason in `why`. Removes such directories left by
  // processes that no longer exist.
  static std::unique_ptr<IdleCgroup> create(std::string* why = nullptr);
  ~IdleCgroup();  // removes the directory (a thread still in it keeps it; the kernel says EBUSY)
  IdleCgroup(const IdleCgroup&) = delete;
  IdleCgroup& operator=(const IdleCgroup&) = delete;

  // Moves thread `tid` of this process into the idle group, or back to the process's cgroup.
  bool enter(pid_t tid) const;
  bool leave(pid_t tid) const;

  // The idle group's directory and the one threads return to.
  const std::string& path() const { return path_; }
  const std::string& home() const { return home_; }

 private:
  IdleCgroup(std::string path, std::string home, std::string threadsFile)
      : path_(std::move(path)), home_(std::move(home)), threadsFile_(std::move(threadsFile)) {}
  std::string path_, home_, threadsFile_;
};

}  // namespace archway::core
