#include "core/background_cpu.h"

#include "core/idle_cgroup.h"
#include "core/log.h"

#include <cstdio>
#include <string>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace archway::core {
namespace {

pid_t currentTid() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

bool setPolicy(pid_t tid, int policy) {
  sched_param p{};
  return ::sched_setscheduler(tid, policy, &p) == 0;
}

// Scopes open on this thread (the outermost one changes the policy).
thread_local int tlDepth = 0;

// Can a thread go to SCHED_IDLE and come back? Tried on a thread of its own.
bool canLeaveIdle() {
  bool ok = false;
  std::thread probe([&ok] {
    const pid_t tid = currentTid();
    ok = setPolicy(tid, SCHED_IDLE) && setPolicy(tid, SCHED_OTHER);
  });
  probe.join();
  return ok;
}

}  // namespace

thread_local BackgroundCpu::Open* BackgroundCpu::current_ = nullptr;

BackgroundCpu::BackgroundCpu() : BackgroundCpu(Options{}) {}

BackgroundCpu::BackgroundCpu(Options options) : options_(options) {
  active_ = options_.enabled && canLeaveIdle();
  if (active_ && options_.idleGroup) {
    idleGroup_ = IdleCgroup::create(&idleGroupWhy_);
    if (idleGroup_) {
      log::debug("long background work moves to an idle cpu cgroup",
                 {{"cgroup", idleGroup_->path()}});
    } else {
      log::debug("no idle cpu cgroup for background work", {{"reason", idleGroupWhy_}});
    }
  } else if (active_) {
    idleGroupWhy_ = "disabled";
  }
  if (active_) watcher_ = std::thread([this] { watch(); });
}

BackgroundCpu::~BackgroundCpu() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::optional<BackgroundCpu::SchedStat> BackgroundCpu::schedStat(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", static_cast<int>(tid));
  std::FILE* f = std::fopen(path, "re");
  if (!f) return std::nullopt;
  unsigned long long run = 0, wait = 0;
  const int n = std::fscanf(f, "%llu %llu", &run, &wait);
  std::fclose(f);
  if (n != 2) return std::nullopt;
  return SchedStat{run, wait};
}

BackgroundCpu::Scope BackgroundCpu::enter() {
  if (!active_) return Scope(nullptr, 0);
  const pid_t tid = currentTid();
  if (tlDepth++ > 0) return Scope(this, tid);
  std::atomic<bool>* promoted;
  {
    // Registered while the thread still has its normal policy: it never holds the mutex the
    // watcher needs while under SCHED_IDLE.
    std::lock_guard lock(mutex_);
    auto& o = open_[tid];
    const auto s = schedStat(tid);
    o.waitAtEnter = s ? s->waitNs : 0;
    o.since = std::chrono::steady_clock::now();
    o.promoted.store(false);
    o.group.store(kOut);
    promoted = &o.promoted;
    current_ = &o;
  }
  wake_.notify_one();
  setPolicy(tid, SCHED_IDLE);
  // The watcher may have promoted the scope between the registration and the line above (it
  // sets the flag before the policy): then the promotion stands.
  if (promoted->load()) setPolicy(tid, SCHED_OTHER);
  return Scope(this, tid);
}

BackgroundCpu::Scope::~Scope() {
  if (owner_) owner_->leave(tid_);
}

void BackgroundCpu::leave(pid_t tid) {
  if (--tlDepth > 0) return;
  setPolicy(tid, SCHED_OTHER);  // before the mutex, for the same reason as in enter()
  Open* o = current_;
  current_ = nullptr;
  // Still in the idle group: out first, without the mutex. A move the watcher is making (under
  // the mutex) is undone by the watcher before it lets go of the mutex, so once this thread
  // holds it, the thread is out.
  if (o->group.exchange(kLeaving) == kIn) idleGroup_->leave(tid);
  std::lock_guard lock(mutex_);
  open_.erase(tid);
}

std::uint64_t BackgroundCpu::promotions() const {
  return promotions_.load();
}

std::string BackgroundCpu::idleGroupPath() const {
  return idleGroup_ ? idleGroup_->path() : std::string();
}

std::uint64_t BackgroundCpu::idleGroupMoves() const {
  return idleGroupMoves_.load();
}

void BackgroundCpu::watch() {
  pthread_setname_np(pthread_self(), "aw-bgcpu");
  const auto starvedNs = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.starvedAfter).count());
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (open_.empty()) {
      wake_.wait(lock, [this] { return stop_ || !open_.empty(); });
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto& [tid, o] : open_) {
      if (o.promoted.load() || o.group.load() == kLeaving) continue;
      int state = kOut;
      if (idleGroup_ && now - o.since >= options_.idleGroupAfter &&
          o.group.compare_exchange_strong(state, kMovingIn)) {
        const bool moved = idleGroup_->enter(tid);
        state = kMovingIn;
        if (!o.group.compare_exchange_strong(state, moved ? kIn : kOut)) {
          // The scope ended during the move; its thread waits for this mutex: move it back.
          if (moved) idleGroup_->leave(tid);
          continue;
        }
        if (moved) ++idleGroupMoves_;
      }
      const auto s = schedStat(tid);
      // Without schedstat, the scope's age stands in for its wait (a more generous bound).
      const bool starved = s ? s->waitNs - o.waitAtEnter >= starvedNs
                             : now - o.since >= 4 * options_.starvedAfter;
      if (!starved) continue;
      o.promoted.store(true);
      setPolicy(tid, SCHED_OTHER);
      state = kIn;
      if (o.group.compare_exchange_strong(state, kOut)) idleGroup_->leave(tid);
      ++promotions_;
      log::debug("background work waited for a CPU: back to its normal priority",
                 {{"thread", std::to_string(tid)},
                  {"scope_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  now - o.since)
                                                  .count())}});
    }
    wake_.wait_for(lock, options_.poll, [this] { return stop_; });
  }
}

}  // namespace archway::core
