#pragma once
// The request lifecycle on one worker: downstream HTTP/1.1 session -> router -> upstream
// (pooled keep-alive connection) -> response -> stats. Everything here runs on the worker's own
// io_context thread: nothing is shared with other workers and nothing takes a lock.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/stats_shard.h"
#include "proxy/snapshot.h"

namespace archway::trace {
class Sampler;
class TraceStore;
}  // namespace archway::trace

namespace archway::net {
class DnsResolver;
}  // namespace archway::net

namespace archway::proxy {

class AccessLog;

struct ProxyLimits {
  std::size_t maxHeaderBytes = 64 * 1024;
  std::size_t maxBodyBytes = 128 * 1024 * 1024;
  std::chrono::seconds clientTimeout{60};
  // Kong's upstream keepalive defaults.
  std::size_t upstreamPoolSize = 512;
  std::uint64_t upstreamMaxRequests = 10000;
  std::chrono::seconds upstreamIdleTimeout{60};
  // This worker's place among the engine's workers (plugins keep per-worker state).
  int workerIndex = 0;
  int workerCount = 1;
  // Request tracing (both outlive the worker); null: no tracing.
  trace::Sampler* sampler = nullptr;
  trace::TraceStore* traces = nullptr;
  // Per-request stats (the console, /archway/stats, /metrics). Off only to measure their cost.
  bool stats = true;
  // The access log (outlives the worker); null: off.
  AccessLog* accessLog = nullptr;
  // Name resolution shared by the workers (runtime::Engine's); null: the worker makes its own
  // with the default DnsOptions.
  std::shared_ptr<net::DnsResolver> dns;
};

class ProxyWorker {
 public:
  ProxyWorker(boost::asio::io_context& ctx, const SnapshotSource& source, ProxyLimits limits);
  ~ProxyWorker();
  ProxyWorker(const ProxyWorker&) = delete;
  ProxyWorker& operator=(const ProxyWorker&) = delete;

  // Takes ownership of a bound, listening acceptor and starts accepting (call on any thread
  // before the worker runs, or on the worker thread).
  void addListener(boost::asio::ip::tcp::acceptor acceptor);
  // Worker thread (post it): stop accepting, close idle connections, let busy ones finish
  // their current request and close.
  void drain();
  // Worker thread, after drain's deadline: cancel every connection still open so the
  // io_context runs out of work.
  void forceClose();

  metrics::WorkerStats& stats() { return stats_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  metrics::WorkerStats stats_;
};

}  // namespace archway::proxy
