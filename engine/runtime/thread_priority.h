#pragma once
// Background threads whose work can wait for idle CPU (freeing replaced snapshots) run at a
// higher nice value than the workers. Linux applies a nice value to one thread. Best effort:
// without the permission, nothing changes.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace archway::runtime {

// `nice`: 1 (a little lower) .. 19 (only when nothing else wants the CPU).
inline void lowerThisThreadsPriority(int nice) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  ::setpriority(PRIO_PROCESS, tid, nice);
}

}  // namespace archway::runtime
