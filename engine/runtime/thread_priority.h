#pragma once
// Background threads yield the CPU to the workers. Measured on a 2-core box with 1,000 req/s
// on one worker: after a 10,000-route reload the stats merger's bursts, at the default policy,
// kept the worker waiting for its CPU for up to ~3.6 ms at a time, whatever their nice values
// (Linux's EEVDF lets the running thread finish its slice); as SCHED_IDLE, which a waking
// worker always preempts, they did not show in the request latencies any more.
// Best effort: without the permission, or on other kernels, what cannot be set is left.
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace archway::runtime {

// The kernel's struct sched_attr, first version (<linux/sched/types.h> clashes with glibc's).
struct SchedAttr {
  std::uint32_t size = sizeof(SchedAttr);
  std::uint32_t sched_policy = 0;
  std::uint64_t sched_flags = 0;
  std::int32_t sched_nice = 0;
  std::uint32_t sched_priority = 0;
  std::uint64_t sched_runtime = 0, sched_deadline = 0, sched_period = 0;
};
static_assert(sizeof(SchedAttr) == 48);

inline bool setThisThreadsScheduling(const SchedAttr& attr) {
  const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  if (::syscall(SYS_sched_setattr, tid, &attr, 0u) == 0) return true;
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), attr.sched_nice);
  return false;
}

// Work that must still get done promptly (the control thread: Admin API, snapshot builds, store
// writes, health checks): a smaller CPU share (`nice`, 1..19) and the shortest slice (0.1 ms),
// so a waking worker waits less for it.
inline void lowerThisThreadsPriority(int nice) {
  SchedAttr attr;
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = nice;
  attr.sched_runtime = 100'000;  // ns
  setThisThreadsScheduling(attr);
}

// Work that can wait for idle CPU (merging stats frames, freeing replaced snapshots): SCHED_IDLE
// (nice 19 where that cannot be set). It still runs when the CPU is saturated, just last.
inline void idleThisThread() {
  SchedAttr attr;
  attr.sched_policy = SCHED_IDLE;
  attr.sched_nice = 19;
  setThisThreadsScheduling(attr);
}

}  // namespace archway::runtime
