#pragma once
// Name resolution with the TTLs of the DNS records (getaddrinfo hides them), as Kong's DNS client
// does it (kong.conf dns_*): the hosts file first, then DNS queries in `dns_order`.
//
// DnsResolver: one per engine, shared by the workers. Queries run on its own threads with
// glibc's libresolv (res_nsearch: resolv.conf's search list, retries, TCP on truncation) and
// the answer is parsed with ns_initparse for the addresses and the smallest TTL. A worker never
// blocks on it: it submits a name and gets the answer back on its own io_context.
//
// DnsCache: one per worker, touched only by its thread. Answers are kept for their TTL; past it
// the stale addresses are still served for `staleTtl` while a refresh runs in the background,
// and also when that refresh fails (Kong's dns_stale_ttl); a failed refresh is retried after
// `errorTtl`. A name that does not exist is remembered for `notFoundTtl`, a server failure for
// `errorTtl`. Lookups of a name already being queried wait for that query.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace archway::net {

// Record types of dns_order. `last`: the type that answered last time for the name. `cname` is
// accepted for Kong compatibility: A and AAAA queries already follow CNAME chains.
enum class DnsType : std::uint8_t { last, srv, a, aaaa, cname };

struct DnsOptions {
  // Kong's dns_resolver: "IPv4[:port]" nameservers, tried in order. Empty: /etc/resolv.conf.
  std::vector<std::string> nameservers;
  std::string hostsFile = "/etc/hosts";  // Kong's dns_hostsfile; "" reads none
  std::vector<DnsType> order{DnsType::last, DnsType::srv, DnsType::a, DnsType::cname};
  std::optional<std::chrono::seconds> validTtl;  // dns_valid_ttl: replaces the records' TTL
  std::chrono::seconds staleTtl{4};              // dns_stale_ttl
  std::chrono::seconds notFoundTtl{30};          // dns_not_found_ttl (NXDOMAIN, no records)
  std::chrono::seconds errorTtl{1};              // dns_error_ttl (server failure, timeout)
  std::chrono::seconds timeout{2};               // per query and nameserver try (resolv.conf)
  int attempts = 2;                              // tries per nameserver
  int threads = 2;                               // resolver threads
};

// "LAST,SRV,A,CNAME" (Kong's dns_order), case-insensitive.
core::Result<std::vector<DnsType>> parseDnsOrder(std::string_view text);
// Checks DnsOptions::nameservers; the error names the bad entry.
core::Status checkNameservers(const std::vector<std::string>& nameservers);

enum class DnsStatus : std::uint8_t {
  ok,
  notFound,  // NXDOMAIN, or no record of any type in the order
  error,     // server failure, refused, timeout
};

struct DnsAddress {
  boost::asio::ip::address ip;
  std::uint16_t port = 0;    // from an SRV record; 0: the caller's port
  std::uint16_t weight = 0;  // from an SRV record
};

struct DnsAnswer {
  DnsStatus status = DnsStatus::error;
  std::vector<DnsAddress> addresses;
  std::uint32_t ttl = 0;  // seconds: the smallest TTL of the records used
  DnsType type = DnsType::a;
  std::string message;  // why it failed
  bool fromHostsFile = false;
};

class DnsResolver {
 public:
  explicit DnsResolver(DnsOptions options = {});
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  const DnsOptions& options() const { return options_; }

  // Any thread; blocks for the queries (resolver threads and tests only).
  DnsAnswer resolveNow(const std::string& name, DnsType lastType = DnsType::last) const;

  // Any thread: resolves on a resolver thread and calls `done` there (post it where it
  // belongs). Concurrent submissions of one name share one query. After stop(), nothing runs.
  void submit(const std::string& name, DnsType lastType, std::function<void(DnsAnswer)> done);

  // Joins the threads; queued queries are dropped. Called by the destructor.
  void stop();

 private:
  void run();
  DnsAnswer query(const std::string& name, DnsType type, void* state) const;

  DnsOptions options_;
  std::uint64_t id_;  // tells the per-thread libresolv states of instances apart
  std::unordered_map<std::string, std::vector<boost::asio::ip::address>> hosts_;  // lower case
  std::mutex mu_;
  std::condition_variable wake_;
  struct Job {
    std::string name;
    DnsType lastType;
  };
  std::deque<Job> queue_;
  std::unordered_map<std::string, std::vector<std::function<void(DnsAnswer)>>> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// One worker's cache over a shared resolver. Worker thread only.
class DnsCache {
 public:
  DnsCache(boost::asio::io_context& io, std::shared_ptr<DnsResolver> resolver);
  ~DnsCache();

  struct Lookup {
    DnsStatus status = DnsStatus::error;
    std::shared_ptr<const std::vector<DnsAddress>> addresses;  // set when status is ok
    bool stale = false;  // past the TTL: served while refreshing, or because the refresh failed
  };
  // `host` must stay valid until the lookup returns (the proxy passes the snapshot's string).
  boost::asio::awaitable<Lookup> lookup(const std::string& host);
  // The addresses of `host` while the cache holds a current answer (within its TTL), else null:
  // then lookup(). No query, no suspension: what a request path calls first.
  std::shared_ptr<const std::vector<DnsAddress>> fresh(const std::string& host) const;

  DnsResolver& resolver() { return *resolver_; }

 private:
  struct State;
  std::shared_ptr<DnsResolver> resolver_;
  std::shared_ptr<State> state_;  // the resolver's answers reach it through a weak_ptr
};

}  // namespace archway::net
