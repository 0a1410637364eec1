#pragma once
// Snapshots the engine has replaced, kept until no request holds them any more and then freed
// on this class's own thread. A worker takes the new snapshot on its next request and drops
// the old one; were that the last reference, the worker would free 10^4 routes or 10^5
// consumers between two requests, a latency spike on live traffic.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/snapshot.h"

namespace archway::runtime {

class RetiredSnapshots {
 public:
  RetiredSnapshots() = default;
  ~RetiredSnapshots();  // frees the rest (the workers must be gone)
  RetiredSnapshots(const RetiredSnapshots&) = delete;
  RetiredSnapshots& operator=(const RetiredSnapshots&) = delete;

  // Takes over a snapshot that is no longer published. Any thread but a worker's: when more
  // than kBacklog are waiting (the low-priority thread falls behind, e.g. at 10^6 entities
  // on a busy machine, where each snapshot holds hundreds of MB), the unused ones are freed
  // on the caller's thread, so the backlog cannot grow without bound.
  void retire(std::shared_ptr<const proxy::Snapshot> snapshot);
  static constexpr std::size_t kBacklog = 2;
  // How many are waiting (for tests).
  std::size_t waiting() const;

 private:
  void run();
  // Moves the snapshots only this list holds into `out`. Under mu_.
  void takeUnused(std::vector<std::shared_ptr<const proxy::Snapshot>>& out);

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<std::shared_ptr<const proxy::Snapshot>> waiting_;
  std::thread thread_;  // started by the first retire()
};

}  // namespace archway::runtime
