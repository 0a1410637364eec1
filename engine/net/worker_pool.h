#pragma once
// N worker threads, each running its own io_context. Work posted to a worker stays on that
// worker; nothing on the request path is shared between workers.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace archway::net {

class WorkerPool {
 public:
  explicit WorkerPool(int count);  // count <= 0: hardware threads
  ~WorkerPool();                   // stop() + join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }
  boost::asio::io_context& context(int i) { return workers_[i]->ctx; }

  void start(const std::string& threadName);
  // Lets each io_context run out of work (used for graceful drain), then joins.
  void releaseAndJoin();
  // Stops every io_context at once and joins.
  void stop();

 private:
  struct Worker {
    // Concurrency hint 1: one thread runs it. (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO was tried
    // to drop per-descriptor locking and made no measurable difference.)
    boost::asio::io_context ctx{1};
    std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace archway::net
