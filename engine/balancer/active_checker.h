#pragma once
// Active health checks of one upstream (Kong's healthchecks.active): every healthy.interval
// seconds the targets currently healthy are probed, every unhealthy.interval seconds the
// unhealthy ones (0 disables that half), at most `concurrency` probes at once. A probe is a TCP
// connect (type tcp), or an HTTP/1.0 `GET http_path` with the configured headers and
// `Host: <host_header or target host>` over plain TCP (http, grpc) or TLS (https, grpcs; SNI
// https_sni or the target host, certificate verified when https_verify_certificate). Results go
// through the same TargetHealth state machine as passive checks, with the active thresholds.
// Target names are resolved through a DnsCache over the engine's DnsResolver, as the proxy
// resolves them: the hosts file and the dns_* settings, the records' TTLs, SRV ports. Each
// address of a name is probed and judged on its own (its health in the HealthState); a name
// that does not resolve marks the target DNS_ERROR until it does.
//
// Threads: everything runs on the io_context given at creation (the engine's control thread,
// single-threaded). start(), stop() and updateConfig() may be called from any thread: they are
// dispatched to that context. Health lives in the HealthState, not here, so a checker can be
// replaced or reconfigured without losing what it learned.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "balancer/health_state.h"

namespace boost::asio::ssl {
class context;
}

namespace archway::net {
class DnsCache;
class DnsResolver;
}  // namespace archway::net

namespace archway::balancer {

class ActiveProbe;

class ActiveChecker : public std::enable_shared_from_this<ActiveChecker> {
 public:
  // `dns` must run on `ctx`; null: the checker makes its own over a default DnsResolver when
  // it first needs one.
  static std::shared_ptr<ActiveChecker> create(boost::asio::io_context& ctx,
                                               std::shared_ptr<HealthState> state,
                                               std::shared_ptr<net::DnsCache> dns = nullptr);
  ~ActiveChecker();
  ActiveChecker(const ActiveChecker&) = delete;
  ActiveChecker& operator=(const ActiveChecker&) = delete;

  // The first round of each enabled half starts at once, the next ones every interval.
  void start();
  // Cancels timers and every probe in flight (no report is made for a cancelled probe).
  void stop();
  // Re-reads the config from the HealthState (call after HealthRegistry::sync); intervals that
  // changed restart their schedule.
  void updateConfig();

  const std::shared_ptr<HealthState>& state() const { return state_; }
  // Control thread only; tests and diagnostics.
  std::uint64_t probesCompleted() const { return completed_; }

 private:
  friend class ActiveProbe;
  // One probe to run: an IP target, or one address of a hostname target.
  struct Job {
    HealthTarget target;
    std::shared_ptr<TargetHealth> health;  // the target's, or the address's
    boost::asio::ip::address ip;
    std::uint16_t port = 0;
    std::string key;  // in pending_: "host:port", or "host:port address ip:port"
  };
  ActiveChecker(boost::asio::io_context& ctx, std::shared_ptr<HealthState> state,
                std::shared_ptr<net::DnsCache> dns);
  void doStart();
  void doStop();
  void loadConfig();
  void arm(bool healthyHalf, bool immediately);
  void runRound(bool healthyHalf);
  void resolveAndQueue(HealthTarget target, bool healthyHalf);
  void enqueue(Job job);
  void pump();
  void probeDone(const std::string& key, std::shared_ptr<TargetHealth> health,
                 const Outcome* outcome);
  std::shared_ptr<boost::asio::ssl::context> sslContext();
  net::DnsCache& dns();

  boost::asio::io_context& ctx_;
  std::shared_ptr<HealthState> state_;
  core::HealthcheckActive config_;
  CheckRules rules_;
  std::optional<std::string> hostHeader_;
  bool running_ = false;
  std::uint64_t generation_[2] = {0, 0};  // [healthy, unhealthy]: stale timer callbacks bail out
  boost::asio::steady_timer timers_[2];
  std::deque<Job> queue_;
  std::set<std::string> pending_;  // queued, in flight, or resolving (per half)
  std::vector<std::weak_ptr<ActiveProbe>> probes_;
  int inFlight_ = 0;
  std::uint64_t completed_ = 0;
  std::shared_ptr<boost::asio::ssl::context> ssl_;
  bool sslVerify_ = true;
  std::shared_ptr<net::DnsCache> dns_;
};

// One ActiveChecker per upstream whose active checks have an interval. Control thread.
class ActiveCheckers {
 public:
  // `resolver`: the engine's (its checkers share one DnsCache over it); null: a default one.
  explicit ActiveCheckers(boost::asio::io_context& ctx,
                          std::shared_ptr<net::DnsResolver> resolver = nullptr);
  ~ActiveCheckers() { stop(); }
  ActiveCheckers(const ActiveCheckers&) = delete;
  ActiveCheckers& operator=(const ActiveCheckers&) = delete;

  // After HealthRegistry::sync(config): starts, reconfigures and stops checkers to match.
  void sync(const HealthRegistry& registry);
  void stop();
  std::shared_ptr<ActiveChecker> find(const std::string& upstreamId) const;

 private:
  boost::asio::io_context& ctx_;
  std::shared_ptr<net::DnsResolver> resolver_;
  std::shared_ptr<net::DnsCache> dns_;  // made with the first checker
  std::map<std::string, std::shared_ptr<ActiveChecker>> checkers_;
};

}  // namespace archway::balancer
