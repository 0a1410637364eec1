#include "runtime/retired_snapshots.h"

#include <pthread.h>

#include <chrono>

#include "runtime/thread_priority.h"

namespace archway::runtime {

RetiredSnapshots::~RetiredSnapshots() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetiredSnapshots::retire(std::shared_ptr<const proxy::Snapshot> snapshot) {
  if (!snapshot) return;
  std::vector<std::shared_ptr<const proxy::Snapshot>> unused;
  {
    std::lock_guard lock(mu_);
    waiting_.push_back(std::move(snapshot));
    if (waiting_.size() > kBacklog) takeUnused(unused);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_all();
  unused.clear();  // freed here, outside the lock
}

void RetiredSnapshots::takeUnused(std::vector<std::shared_ptr<const proxy::Snapshot>>& out) {
  // A count of 1 is this list's own reference: nobody else holds the snapshot, and nobody can
  // take it again (it is no longer published).
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->use_count() == 1) {
      out.push_back(std::move(*it));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t RetiredSnapshots::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void RetiredSnapshots::run() {
  pthread_setname_np(pthread_self(), "aw-retired");
  lowerThisThreadsPriority(19);  // freeing memory can wait for idle CPU
  std::unique_lock lock(mu_);
  while (!stop_) {
    // Checked every 20 ms while some are waiting: requests finish, workers move on.
    if (waiting_.empty())
      wake_.wait(lock, [&] { return stop_ || !waiting_.empty(); });
    else
      wake_.wait_for(lock, std::chrono::milliseconds(20), [&] { return stop_; });
    std::vector<std::shared_ptr<const proxy::Snapshot>> unused;
    takeUnused(unused);
    lock.unlock();
    unused.clear();  // freed here, outside the lock
    lock.lock();
  }
}

}  // namespace archway::runtime
