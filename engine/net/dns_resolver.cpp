#include "net/dns_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace archway::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// "IPv4[:port]" -> sockaddr_in.
std::optional<sockaddr_in> parseNameserver(std::string_view text) {
  std::string host(text);
  std::uint16_t port = 53;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    host = std::string(text.substr(0, colon));
    auto p = text.substr(colon + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535)
      return std::nullopt;
    port = static_cast<std::uint16_t>(v);
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) return std::nullopt;
  return sin;
}

std::uint16_t queryType(DnsType t) {
  switch (t) {
    case DnsType::srv:
      return ns_t_srv;
    case DnsType::aaaa:
      return ns_t_aaaa;
    default:
      return ns_t_a;
  }
}

// A thread's libresolv state, initialised from resolv.conf with our nameservers and timeouts.
struct ResState {
  struct __res_state st {};
  bool ok = false;
  explicit ResState(const DnsOptions& o) {
    ok = res_ninit(&st) == 0;
    if (!ok) return;
    if (!o.nameservers.empty()) {
      int n = 0;
      for (const auto& ns : o.nameservers) {
        auto sin = parseNameserver(ns);
        if (!sin || n >= MAXNS) continue;
        st.nsaddr_list[n++] = *sin;
      }
      st.nscount = n;
    }
    st.retrans = static_cast<int>(std::max<long long>(1, o.timeout.count()));
    st.retry = std::max(1, o.attempts);
  }
  ~ResState() {
    if (ok) res_nclose(&st);
  }
};

// The hosts file: name -> addresses, in file order.
void readHosts(const std::string& path,
               std::unordered_map<std::string, std::vector<asio::ip::address>>& out) {
  if (path.empty()) return;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string ip, name;
    if (!(words >> ip)) continue;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(ip, ec);
    if (ec) continue;
    while (words >> name) {
      auto& v = out[lowerCopy(name)];
      if (std::find(v.begin(), v.end(), addr) == v.end()) v.push_back(addr);
    }
  }
}

}  // namespace

core::Result<std::vector<DnsType>> parseDnsOrder(std::string_view text) {
  std::vector<DnsType> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string item = lowerCopy(text.substr(0, comma));
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    if (item == "last")
      out.push_back(DnsType::last);
    else if (item == "srv")
      out.push_back(DnsType::srv);
    else if (item == "a")
      out.push_back(DnsType::a);
    else if (item == "aaaa")
      out.push_back(DnsType::aaaa);
    else if (item == "cname")
      out.push_back(DnsType::cname);
    else
      return core::Error{"dns_order", "unknown record type '" + item +
                                          "' (expected LAST, SRV, A, AAAA or CNAME)"};
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return core::Error{"dns_order", "no record type"};
  return out;
}

core::Status checkNameservers(const std::vector<std::string>& nameservers) {
  for (const auto& ns : nameservers) {
    if (!parseNameserver(ns))
      return core::Error{"dns_resolver", "invalid nameserver '" + ns + "' (expected IPv4[:port])"};
  }
  return core::Ok{};
}

// ------------------------------------------------------------------------------ DnsResolver

namespace {
std::atomic<std::uint64_t> nextResolverId{1};
}  // namespace

DnsResolver::DnsResolver(DnsOptions options)
    : options_(std::move(options)), id_(nextResolverId.fetch_add(1)) {
  readHosts(options_.hostsFile, hosts_);
  const int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
}

DnsResolver::~DnsResolver() { stop(); }

void DnsResolver::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    waiting_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void DnsResolver::submit(const std::string& name, DnsType lastType,
                         std::function<void(DnsAnswer)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto [it, fresh] = waiting_.try_emplace(name);
    it->second.push_back(std::move(done));
    if (!fresh) return;  // the query in flight answers this one too
    queue_.push_back({name, lastType});
  }
  wake_.notify_one();
}

void DnsResolver::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    DnsAnswer answer = resolveNow(job.name, job.lastType);
    std::vector<std::function<void(DnsAnswer)>> callbacks;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (auto it = waiting_.find(job.name); it != waiting_.end()) {
        callbacks = std::move(it->second);
        waiting_.erase(it);
      }
    }
    for (auto& cb : callbacks) cb(answer);
  }
}

DnsAnswer DnsResolver::resolveNow(const std::string& name, DnsType lastType) const {
  DnsAnswer answer;
  if (auto it = hosts_.find(lowerCopy(name)); it != hosts_.end()) {
    answer.status = DnsStatus::ok;
    answer.fromHostsFile = true;
    answer.ttl = 24 * 3600;  // the file is read once
    for (const auto& ip : it->second) answer.addresses.push_back({ip, 0, 0});
    return answer;
  }
  // One libresolv state per thread and resolver (instances differ in their nameservers).
  thread_local std::unique_ptr<ResState> state;
  thread_local std::uint64_t stateOwner = 0;
  if (!state || stateOwner != id_) {
    state = std::make_unique<ResState>(options_);
    stateOwner = id_;
  }
  if (!state->ok) {
    answer.message = "resolver initialisation failed";
    return answer;
  }
  std::vector<DnsType> order;
  for (DnsType t : options_.order) {
    if (t == DnsType::last) {
      if (lastType == DnsType::last) continue;
      t = lastType;
    }
    if (t == DnsType::cname) t = DnsType::a;  // A queries follow CNAME chains
    if (std::find(order.begin(), order.end(), t) == order.end()) order.push_back(t);
  }
  bool serverError = false;
  std::string lastMessage;
  for (DnsType t : order) {
    DnsAnswer a = query(name, t, &state->st);
    if (a.status == DnsStatus::ok) {
      if (options_.validTtl) a.ttl = static_cast<std::uint32_t>(options_.validTtl->count());
      return a;
    }
    if (a.status == DnsStatus::error) serverError = true;
    lastMessage = a.message;
    if (a.message == "name does not exist") break;  // no other type will exist either
  }
  answer.status = serverError ? DnsStatus::error : DnsStatus::notFound;
  answer.message = lastMessage.empty() ? "no records" : lastMessage;
  return answer;
}

DnsAnswer DnsResolver::query(const std::string& name, DnsType type, void* statePtr) const {
  auto* st = static_cast<res_state>(statePtr);
  DnsAnswer answer;
  answer.type = type;
  thread_local std::vector<unsigned char> buf(65536);
  const int len = res_nsearch(st, name.c_str(), ns_c_in, queryType(type), buf.data(),
                              static_cast<int>(buf.size()));
  if (len < 0) {
    switch (st->res_h_errno) {
      case HOST_NOT_FOUND:
        answer.status = DnsStatus::notFound;
        answer.message = "name does not exist";
        break;
      case NO_DATA:
        answer.status = DnsStatus::notFound;
        answer.message = "no records";
        break;
      case TRY_AGAIN:
        answer.status = DnsStatus::error;
        answer.message = "server failure or timeout";
        break;
      default:
        answer.status = DnsStatus::error;
        answer.message = "query refused or malformed";
        break;
    }
    return answer;
  }
  ns_msg msg;
  if (ns_initparse(buf.data(), len, &msg) < 0) {
    answer.message = "malformed answer";
    return answer;
  }
  std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
  struct Srv {
    std::uint16_t priority, weight, port;
    std::string target;
  };
  std::vector<Srv> srvs;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) continue;
    const auto rtype = ns_rr_type(rr);
    const unsigned char* rd = ns_rr_rdata(rr);
    const auto rdlen = ns_rr_rdlen(rr);
    bool used = rtype == ns_t_cname;  // the chain's TTL counts too
    if (type == DnsType::a && rtype == ns_t_a && rdlen == 4) {
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), rd, 4);
      answer.addresses.push_back({asio::ip::address_v4(b), 0, 0});
      used = true;
    } else if (type == DnsType::aaaa && rtype == ns_t_aaaa && rdlen == 16) {
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), rd, 16);
      answer.addresses.push_back({asio::ip::address_v6(b), 0, 0});
      used = true;
    } else if (type == DnsType::srv && rtype == ns_t_srv && rdlen > 6) {
      Srv s{static_cast<std::uint16_t>(ns_get16(rd)), static_cast<std::uint16_t>(ns_get16(rd + 2)),
            static_cast<std::uint16_t>(ns_get16(rd + 4)), {}};
      char target[NS_MAXDNAME];
      if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rd + 6, target, sizeof target) <
          0)
        continue;
      s.target = target;
      srvs.push_back(std::move(s));
      used = true;
    }
    if (used) ttl = std::min<std::uint32_t>(ttl, ns_rr_ttl(rr));
  }
  if (type == DnsType::srv && !srvs.empty()) {
    // The lowest priority's records; each target's addresses (the additional section, else a
    // query of its own) with the record's port and weight.
    std::uint16_t best = srvs.front().priority;
    for (const auto& s : srvs) best = std::min(best, s.priority);
    for (const auto& s : srvs) {
      if (s.priority != best || s.target.empty() || s.target == ".") continue;
      std::vector<asio::ip::address> ips;
      for (int i = 0; i < ns_msg_count(msg, ns_s_ar); ++i) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_ar, i, &rr) < 0) continue;
        if (ns_rr_type(rr) != ns_t_a || ns_rr_rdlen(rr) != 4 ||
            lowerCopy(ns_rr_name(rr)) != lowerCopy(s.target))
          continue;
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), ns_rr_rdata(rr), 4);
        // Servers may repeat a target's records once per SRV answer naming it.
        const asio::ip::address ip = asio::ip::address_v4(b);
        if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(ip);
        ttl = std::min<std::uint32_t>(ttl, ns_rr_ttl(rr));
      }
      if (ips.empty()) {
        std::string fqdn = s.target + ".";  // absolute: no search list
        DnsAnswer sub = query(fqdn, DnsType::a, statePtr);
        if (sub.status != DnsStatus::ok) continue;
        for (const auto& a : sub.addresses) ips.push_back(a.ip);
        ttl = std::min(ttl, sub.ttl);
      }
      for (const auto& ip : ips) answer.addresses.push_back({ip, s.port, s.weight});
    }
    // Heavier records first: a service's connection tries the addresses in order (an
    // upstream's balancer spreads requests over them by weight instead).
    std::stable_sort(answer.addresses.begin(), answer.addresses.end(),
                     [](const DnsAddress& x, const DnsAddress& y) { return x.weight > y.weight; });
  }
  if (answer.addresses.empty()) {
    answer.status = DnsStatus::notFound;
    answer.message = "no records";
    return answer;
  }
  answer.status = DnsStatus::ok;
  answer.ttl = ttl == std::numeric_limits<std::uint32_t>::max() ? 0 : ttl;
  return answer;
}

// --------------------------------------------------------------------------------- DnsCache

struct DnsCache::State {
  asio::io_context& io;
  const DnsOptions& options;
  struct Entry {
    std::shared_ptr<const std::vector<DnsAddress>> addresses;  // last good answer
    DnsStatus status = DnsStatus::error;
    bool answered = false;
    Clock::time_point expires{};     // the answer (or the failure) is current until then
    Clock::time_point staleUntil{};  // good addresses may be served until then
    Clock::time_point retryAfter{};  // a failed refresh is not repeated before then
    DnsType lastType = DnsType::last;
    bool querying = false;
    std::shared_ptr<asio::steady_timer> waiters;  // cancelled when the answer arrives
  };
  std::unordered_map<std::string, Entry> entries;

  State(asio::io_context& i, const DnsOptions& o) : io(i), options(o) {}

  void apply(const std::string& host, const DnsAnswer& a) {
    auto& e = entries[host];
    const auto now = Clock::now();
    e.querying = false;
    if (a.status == DnsStatus::ok) {
      e.addresses = std::make_shared<const std::vector<DnsAddress>>(a.addresses);
      e.status = DnsStatus::ok;
      e.lastType = a.type;
      e.expires = now + std::chrono::seconds(a.ttl);
      e.staleUntil = e.expires + options.staleTtl;
    } else if (e.addresses && now < e.staleUntil) {
      // Kong's dns_stale_ttl: the old addresses stay in use; ask again after dns_error_ttl.
      e.retryAfter = now + options.errorTtl;
    } else {
      e.addresses = nullptr;
      e.status = a.status;
      e.expires = now + (a.status == DnsStatus::notFound ? options.notFoundTtl : options.errorTtl);
    }
    e.answered = true;
    if (e.waiters) {
      e.waiters->cancel();
      e.waiters = nullptr;
    }
  }
};

DnsCache::DnsCache(asio::io_context& io, std::shared_ptr<DnsResolver> resolver)
    : resolver_(std::move(resolver)),
      state_(std::make_shared<State>(io, resolver_->options())) {}

DnsCache::~DnsCache() = default;

std::shared_ptr<const std::vector<DnsAddress>> DnsCache::fresh(const std::string& host) const {
  auto it = state_->entries.find(host);
  if (it == state_->entries.end()) return nullptr;
  const auto& e = it->second;
  if (!e.answered || !e.addresses || Clock::now() >= e.expires) return nullptr;
  return e.addresses;
}

asio::awaitable<DnsCache::Lookup> DnsCache::lookup(const std::string& host) {
  auto state = state_;
  auto resolver = resolver_;  // this cache may go while the lookup waits
  auto query = [&](State::Entry& e) {
    e.querying = true;
    std::weak_ptr<State> weak = state;
    asio::io_context& io = state->io;
    resolver->submit(host, e.lastType, [weak, host, &io](DnsAnswer a) {
      asio::post(io, [weak, host, a = std::move(a)] {
        if (auto s = weak.lock()) s->apply(host, a);
      });
    });
  };
  for (int round = 0;; ++round) {
    auto& e = state->entries[host];
    const auto now = Clock::now();
    if (e.answered && !e.querying) {
      if (e.addresses && now < e.expires) co_return Lookup{DnsStatus::ok, e.addresses, false};
      if (e.addresses && now < e.staleUntil) {
        if (now >= e.retryAfter) query(e);  // refresh in the background
        co_return Lookup{DnsStatus::ok, e.addresses, true};
      }
      if (!e.addresses && now < e.expires) co_return Lookup{e.status, nullptr, false};
    } else if (e.querying && e.addresses && now < e.staleUntil) {
      co_return Lookup{DnsStatus::ok, e.addresses, now >= e.expires};
    }
    if (round > 0 && e.answered && !e.querying) {
      // Answered while we waited (a TTL of 0 is already past): use it once.
      if (e.addresses) co_return Lookup{DnsStatus::ok, e.addresses, false};
      co_return Lookup{e.status, nullptr, false};
    }
    if (!e.querying) query(e);
    if (!e.waiters)
      e.waiters = std::make_shared<asio::steady_timer>(state->io, Clock::time_point::max());
    auto timer = e.waiters;
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace archway::net
