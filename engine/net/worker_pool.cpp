#include "net/worker_pool.h"

#include <pthread.h>

namespace archway::net {

WorkerPool::WorkerPool(int count) {
  if (count <= 0) count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Worker>();
    w->guard =
        std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
            w->ctx.get_executor());
    workers_.push_back(std::move(w));
  }
}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::start(const std::string& threadName) {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    w->thread = std::thread([w] { w->ctx.run(); });
    std::string name = (threadName + std::to_string(i)).substr(0, 15);
    pthread_setname_np(w->thread.native_handle(), name.c_str());
  }
}

void WorkerPool::releaseAndJoin() {
  for (auto& w : workers_) w->guard.reset();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void WorkerPool::stop() {
  for (auto& w : workers_) {
    w->guard.reset();
    w->ctx.stop();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace archway::net
