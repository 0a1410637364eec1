#pragma once
// Values produced on an engine thread and delivered to the GUI thread in batches. The producer
// add()s and, when add() says so, posts one delivery (a queued call); the GUI thread take()s
// everything waiting. At most one delivery is in flight, and when the GUI falls behind only
// the newest `limit` values wait. Both sides take a mutex, never a proxy worker (engine
// callbacks run on the stats, log and control threads).
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace archway::models {

template <class T>
class BatchQueue {
 public:
  explicit BatchQueue(std::size_t limit) : limit_(limit ? limit : 1) {}

  // Producer thread. True when the caller must post a delivery (none is in flight).
  bool add(T value) {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(value));
    while (waiting_.size() > limit_) waiting_.pop_front();
    if (posted_) return false;
    posted_ = true;
    return true;
  }

  // The delivery (GUI thread): everything waiting, oldest first. The next add() posts again.
  std::vector<T> take() {
    std::lock_guard lock(mutex_);
    std::vector<T> out(std::make_move_iterator(waiting_.begin()),
                       std::make_move_iterator(waiting_.end()));
    waiting_.clear();
    posted_ = false;
    return out;
  }

  // Drops what waits (a delivery already posted then finds nothing).
  void clear() {
    std::lock_guard lock(mutex_);
    waiting_.clear();
  }

 private:
  const std::size_t limit_;
  std::mutex mutex_;
  std::deque<T> waiting_;
  bool posted_ = false;
};

}  // namespace archway::models
