#pragma once
// The engine's side of the rate-limiting `cluster` policy (plugins/rate_limiting/
// cluster_counters.h): a CounterStore connection to the node's database attached to the
// node-wide ClusterCounters, and the background thread that syncs them every `interval`.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"

namespace archway::plugins::ratelimit {
class ClusterCounters;
}

namespace archway::runtime {

class ClusterSync {
 public:
  // interval <= 0: no background thread (tests drive sync() by hand).
  ClusterSync(std::shared_ptr<plugins::ratelimit::ClusterCounters> counters,
              std::chrono::milliseconds interval);
  ~ClusterSync();  // stop()
  ClusterSync(const ClusterSync&) = delete;
  ClusterSync& operator=(const ClusterSync&) = delete;

  // Connects to the database (`url` as store::open takes it; already migrated) and attaches it.
  core::Status start(const std::string& url);
  // One sync round now (blocking; any thread).
  core::Status sync();
  // Last round (counts of the workers, which must be stopped), then detaches. Idempotent.
  void stop();

 private:
  void loop();

  std::shared_ptr<plugins::ratelimit::ClusterCounters> counters_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace archway::runtime
