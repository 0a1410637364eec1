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

  // Takes over a snapshot that is no longer published. Any thread.
  void retire(std::shared_ptr<const proxy::Snapshot> snapshot);
  // How many are waiting (for tests).
  std::size_t waiting() const;

 private:
  void run();

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<std::shared_ptr<const proxy::Snapshot>> waiting_;
  std::thread thread_;  // started by the first retire()
};

}  // namespace archway::runtime
