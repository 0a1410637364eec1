#include "proxy/proxy_worker.h"

#include "proxy/access_log.h"
#include "proxy/header_edits.h"

#include <openssl/x509.h>
#include <sys/socket.h>

#include <array>
#include <bit>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>

#include "core/log.h"
#include "core/uuid.h"
#include "http/chunked_scanner.h"
#include "http/head_parser.h"
#include "http/head_writer.h"
#include "net/dns_resolver.h"
#include "net/draining_buffer.h"
#include "plugins/chain.h"
#include "plugins/plugin.h"
#include "proxy/upstream_error_log.h"
#include "proxy/upstream_tls.h"
#include "router/path.h"
#include "trace/recorder.h"
#include "trace/sampler.h"
#include "trace/span_names.h"
#include "trace/trace_store.h"

namespace archway::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using namespace std::string_view_literals;

namespace {

constexpr std::string_view kServer = "archway/0.1.0";
constexpr std::string_view kVia = "1.1 archway/0.1.0";

// Kong's error bodies (kong-reference §1, §6).
constexpr std::string_view kNoRoute = R"({"message":"no Route matched with those values"})";
constexpr std::string_view kNoService = R"({"message":"no Service found with those values"})";
constexpr std::string_view kBadGateway =
    R"({"message":"An invalid response was received from the upstream server"})";
constexpr std::string_view kTimeout = R"({"message":"The upstream server is timing out"})";
constexpr std::string_view kNameResolution = R"({"message":"name resolution failed"})";
constexpr std::string_view kNoPeer =
    R"({"message":"failure to get a peer from the ring-balancer"})";

std::uint64_t usSince(Clock::time_point t0) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
}

std::string_view reasonFor(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : "Error";
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Request headers the proxy sets itself; the client's copies are dropped (X-Forwarded-For is
// extended instead).
enum class Owned { none, xForwardedFor, forwarded, via, expect, traceparent };
Owned ownedHeader(std::string_view name) {
  switch (name.size()) {
    case 3:
      return iequals(name, "via") ? Owned::via : Owned::none;
    case 6:
      return iequals(name, "expect") ? Owned::expect : Owned::none;
    case 9:
      return iequals(name, "x-real-ip") ? Owned::forwarded : Owned::none;
    case 11:
      return iequals(name, "traceparent") ? Owned::traceparent : Owned::none;
    case 15:
      return iequals(name, "x-forwarded-for") ? Owned::xForwardedFor : Owned::none;
    case 16:
      return iequals(name, "x-forwarded-host") || iequals(name, "x-forwarded-port") ||
                     iequals(name, "x-forwarded-path")
                 ? Owned::forwarded
                 : Owned::none;
    case 17:
      return iequals(name, "x-forwarded-proto") ? Owned::forwarded : Owned::none;
    case 18:
      return iequals(name, "x-forwarded-prefix") ? Owned::forwarded : Owned::none;
    default:
      return Owned::none;
  }
}

void appendNumber(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Decodes a chunked body the ChunkedScanner accepted (so it is well formed) into `out`.
void dechunk(const char* p, std::size_t n, std::string& out) {
  out.clear();
  const char* end = p + n;
  while (p < end) {
    std::size_t size = 0;
    while (p < end && std::isxdigit(static_cast<unsigned char>(*p))) {
      char c = *p++;
      size = size * 16 + static_cast<std::size_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    while (p < end && *p != '\n') ++p;  // extensions and CR
    ++p;
    if (size == 0) break;
    if (p + size > end) break;
    out.append(p, size);
    p += size + 2;  // data and CRLF
  }
}

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using net::IoBuffer;

constexpr std::size_t kBufferSize = 16 * 1024;
// Free kBufferSize buffers a worker keeps for its connections (more are freed).
constexpr std::size_t kPooledBuffers = 256;
// Free trace recorders a worker keeps for its next traced requests.
constexpr std::size_t kPooledRecorders = 256;
// Bodies larger than what one read brings are relayed with a bigger buffer: fewer read/write
// pairs per response (nginx's proxy_buffers serve the same purpose).
constexpr std::size_t kRelayBufferSize = 64 * 1024;
// request_buffering / response_buffering hold bodies up to these sizes in memory; larger ones
// stream through (nginx would spill to a temporary file instead).
constexpr std::size_t kRequestBufferBytes = 1024 * 1024;
constexpr std::size_t kResponseBufferBytes = 1024 * 1024;

using TlsStream = asio::ssl::stream<tcp::socket&>;

struct UpstreamConn {
  UpstreamConn(asio::io_context& ctx, std::shared_ptr<net::BufferPool> pool)
      : socket(ctx), buffer(std::move(pool)) {}
  ~UpstreamConn() {
    // Closed without close_notify (as nginx closes idle or failed upstream connections): told
    // so, OpenSSL keeps the session resumable instead of invalidating it.
    if (tls) SSL_set_shutdown(tls->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  UpstreamConn(const UpstreamConn&) = delete;
  UpstreamConn& operator=(const UpstreamConn&) = delete;
  tcp::socket socket;  // the TCP connection (under `tls` when there is one)
  // https services: TLS over `socket`, set up once per connection; null for plain HTTP. Every
  // read and write of the connection picks its path by this one pointer.
  std::unique_ptr<TlsStream> tls;
  std::shared_ptr<TlsClient> tlsClient;  // keeps the ssl::context of `tls` alive
  bool sessionSaved = false;             // its TLS session went to the pool's cache
  IoBuffer buffer;  // storage from the worker's pool while in use; none while pooled idle
  http::ResponseHead head;
  std::uint64_t requests = 0;
  Clock::time_point idleSince;
};

// I/O on an upstream connection, plain or TLS. Not coroutines: they hand back the operation's
// own awaitable, so a plain read costs what the socket's async_read_some costs.
using IoResult = std::tuple<boost::system::error_code, std::size_t>;
awaitable<IoResult> upstreamRead(UpstreamConn& c, asio::mutable_buffer b) {
  if (c.tls) return c.tls->async_read_some(b, kTuple);
  return c.socket.async_read_some(net::DrainingBuffer(b.data(), b.size()), kTuple);
}
template <class Buffers>
awaitable<IoResult> upstreamWrite(UpstreamConn& c, const Buffers& b) {
  if (c.tls) return asio::async_write(*c.tls, b, kTuple);
  return asio::async_write(c.socket, b, kTuple);
}

// The name sent as SNI and checked in the upstream's certificate: a Host value without its port
// (and an IPv6 address without brackets), as nginx's proxy_ssl_name.
std::string_view hostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(1, close - 1);
  }
  auto colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos)
    return host.substr(0, colon);
  return host;
}

// An address in a pool key, as bytes (no formatting per request).
void appendEndpointKey(std::string& key, const tcp::endpoint& ep) {
  key.push_back('@');
  key.append(reinterpret_cast<const char*>(ep.data()), ep.size());
}

// True when an idle pooled connection was closed by the upstream (EOF, or bytes we never
// asked for): it must not carry another request.
bool idleConnectionDead(tcp::socket& s) {
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return true;
  return !(errno == EAGAIN || errno == EWOULDBLOCK);
}

enum class Failure { none, connect, timeout, invalid, dns, client, noPeer };

// Writes what the socket takes right now, without going through the scheduler: a small head
// and body usually leave in one sendmsg, and then no completion handler is queued and resumed.
// On return `bufs` holds what is left (nothing when it returns true). Sockets are in
// non-blocking mode, so this never blocks. `ec` is set on a real error (not would_block).
bool trySend(tcp::socket& socket, std::array<asio::const_buffer, 2>& bufs, std::size_t& sent,
             boost::system::error_code& ec) {
  std::size_t n = socket.write_some(bufs, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  sent += n;
  if (n >= bufs[0].size()) {
    n -= bufs[0].size();
    bufs[0] = asio::const_buffer();
    bufs[1] += n;
  } else {
    bufs[0] += n;
  }
  return !ec && bufs[0].size() == 0 && bufs[1].size() == 0;
}

// What consistent hashing may hash on, read from the request being proxied. `valid` turns false
// once the request's bytes have left the buffer.
struct HashContext {
  const http::RequestHead* req = nullptr;
  const char* const* base = nullptr;  // points at the current buffer start
  bool valid = false;
  mutable std::string madeCookie;  // hash_on=cookie without the cookie: the value we made up
  std::string_view cookieName;

  std::string_view header(std::string_view name) const {
    if (!valid) return {};
    int i = req->find(*base, name);
    return i < 0 ? std::string_view{} : req->headers[static_cast<std::size_t>(i)].value.in(*base);
  }
  std::string_view cookie(std::string_view name) const {
    for (std::string_view rest = header("cookie"); !rest.empty();) {
      auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
          pair[name.size()] == '=') {
        return pair.substr(name.size() + 1);
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
    // Kong: a request without the hashing cookie gets one (sent back with Set-Cookie).
    if (name == cookieName) {
      if (madeCookie.empty()) madeCookie = core::uuid4();
      return madeCookie;
    }
    return {};
  }
  // The route's regex captures (filled before pick() when the balancer hashes on them).
  const router::Captures* captures = nullptr;
  std::string_view uriCapture(std::string_view name) const {
    return captures ? captures->named(name) : std::string_view{};
  }
  std::string_view queryArg(std::string_view name) const {
    if (!valid) return {};
    for (std::string_view rest = req->query.in(*base); !rest.empty();) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      if (pair.substr(0, pair.find('=')) == name) {
        auto eq = pair.find('=');
        return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    return {};
  }
};

}  // namespace

struct ProxyWorker::Impl {
  Impl(asio::io_context& c, const SnapshotSource& s, ProxyLimits l, metrics::WorkerStats& st)
      : ctx(c),
        source(s),
        limits(l),
        stats(st),
        dnsCache(c, l.dns ? l.dns : std::make_shared<net::DnsResolver>(net::DnsOptions{})),
        sweeper(c) {
    parseLimits.maxHeaderBytes = limits.maxHeaderBytes;
    responseLimits.maxHeaderBytes = std::max<std::size_t>(limits.maxHeaderBytes, 64 * 1024);
    workerEnv.io = &ctx;
    workerEnv.index = limits.workerIndex;
    workerEnv.count = limits.workerCount;
    requestIdPrefix = core::uuid4().substr(0, 8) + core::uuid4().substr(9, 4) +
                      core::uuid4().substr(14, 4);
  }

  plugins::WorkerEnv workerEnv;
  std::string requestIdPrefix;  // 16 hex digits, random per worker
  std::uint64_t requestCounter = 0;

  // Runs one phase of a chain. Rewrite and access stop at the first exit; OPTIONS requests
  // skip plugins that do not run on preflight. The time each plugin takes adds up in `ns`; one
  // clock read ends a plugin and starts the next (the loop step between them is the next's).
  static void runPhase(const plugins::Chain& chain, plugins::Context& c, std::uint8_t phase,
                       std::vector<std::uint64_t>& ns, bool preflight) {
    const bool early = phase == plugins::Instance::kRewrite || phase == plugins::Instance::kAccess;
    Clock::time_point t{};
    for (std::size_t i = 0; i < chain.entries.size(); ++i) {
      const auto& e = chain.entries[i];
      if (!(e.phases & phase)) continue;
      const plugins::Instance* inst = e.select(c.consumer);
      if (!inst || !(inst->phases() & phase)) continue;
      if (early && preflight && !inst->runOnPreflight()) continue;
      c.enter(i);
      if (t == Clock::time_point{}) t = Clock::now();
      switch (phase) {
        case plugins::Instance::kRewrite:
          inst->rewrite(c);
          break;
        case plugins::Instance::kAccess:
          inst->access(c);
          break;
        case plugins::Instance::kHeaderFilter:
          inst->headerFilter(c);
          break;
        case plugins::Instance::kBodyFilter:
          inst->bodyFilter(c);
          break;
        default:
          inst->log(c);
          break;
      }
      const auto tEnd = Clock::now();
      ns[i] += static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(tEnd - t).count());
      if (c.trace) c.trace->add(e.spanNames[std::countr_zero(phase)], t, tEnd);
      if (early && c.exited()) return;
      t = tEnd;
    }
  }

  // Rewrite then access; a coroutine only when some plugin's access waits on I/O.
  awaitable<void> runAccessAsync(const plugins::Chain& chain, plugins::Context& c,
                                 std::vector<std::uint64_t>& ns, bool preflight) {
    runPhase(chain, c, plugins::Instance::kRewrite, ns, preflight);
    if (c.exited()) co_return;
    for (std::size_t i = 0; i < chain.entries.size(); ++i) {
      const auto& e = chain.entries[i];
      if (!(e.phases & plugins::Instance::kAccess)) continue;
      const plugins::Instance* inst = e.select(c.consumer);
      if (!inst || !(inst->phases() & plugins::Instance::kAccess)) continue;
      if (preflight && !inst->runOnPreflight()) continue;
      c.enter(i);
      const auto t = Clock::now();
      if (inst->asyncAccess())
        co_await inst->accessAsync(c);
      else
        inst->access(c);
      const auto tEnd = Clock::now();
      ns[i] += static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(tEnd - t).count());
      if (c.trace) c.trace->add(e.spanNames[1], t, tEnd);
      if (c.exited()) co_return;
    }
  }

  // One finished request into the worker's stats (global, route, and the consumer and upstream
  // target when known).
  void recordSample(metrics::EntityShard* route, const metrics::RequestSample& sample,
                    metrics::EntityShard* consumer = nullptr,
                    metrics::EntityShard* target = nullptr) {
    if (!limits.stats) return;
    stats.global().record(sample);
    if (route) route->record(sample);
    if (consumer) consumer->record(sample);
    stats.recordPerConsumer(route, consumer, sample);  // prometheus per_consumer; off: one load
    if (target) target->record(sample);
  }

  // The stats shard of the consumer an auth plugin set, or null. The consumer points into the
  // snapshot's config, so its index there is pointer arithmetic (no lookup).
  metrics::EntityShard* consumerShard(const Snapshot& snap, const core::Consumer* c) {
    if (!c || !limits.stats) return nullptr;
    const auto& all = snap.config->consumers;
    const auto i = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(c) -
                                            reinterpret_cast<std::uintptr_t>(all.data())) /
                   sizeof(core::Consumer);
    if (i >= all.size() || &all[i] != c || i >= snap.consumerStatsSlots.size()) return nullptr;
    return stats.consumer(snap.consumerStatsSlots[i]);
  }

  // The log phase, then the time each plugin took into its stats slot.
  void finishPlugins(const Snapshot& snap, const plugins::Chain& chain, plugins::Context& c,
                     std::vector<std::uint64_t>& ns, int status, std::uint64_t totalUs,
                     std::uint64_t upstreamUs, std::uint64_t bytesIn, std::uint64_t bytesOut) {
    c.status = status;
    c.totalUs = totalUs;
    c.upstreamUs = upstreamUs;
    c.kongUs = totalUs > upstreamUs ? totalUs - upstreamUs : 0;
    c.bytesIn = bytesIn;
    c.bytesOut = bytesOut;
    if (chain.phases & plugins::Instance::kLog) {
      const auto tl = Clock::now();
      runPhase(chain, c, plugins::Instance::kLog, ns, false);
      if (c.trace) c.trace->add(trace::names::kLog, tl, Clock::now());
    }
    for (std::size_t i = 0; i < chain.entries.size() && limits.stats; ++i) {
      if (!ns[i]) continue;
      const auto slot = chain.entries[i].timingSlot;
      if (slot < snap.pluginStatsSlots.size()) {
        if (auto* shard = stats.route(snap.pluginStatsSlots[slot]))
          shard->record({200, ns[i], 0, 0, 0, false});
      }
    }
  }

  // A response a plugin produced (Kong's kong.response.exit): header_filter runs first, so
  // plugins like cors and rate-limiting still add their headers.
  void exitHead(std::string& out, const plugins::Chain& chain, plugins::Context& c,
                std::vector<std::uint64_t>& ns, bool keepAlive, bool head, std::uint64_t latencyUs,
                int versionMinor) {
    if (chain.phases & plugins::Instance::kHeaderFilter)
      runPhase(chain, c, plugins::Instance::kHeaderFilter, ns, false);
    const std::string_view body = c.exitBody();
    out.clear();
    http::appendStatusLine(out, c.exitStatus(), reasonFor(c.exitStatus()));
    if (!body.empty() && !c.exitContentType().empty() && !editedAway(c.responseEdits, "content-type"))
      out.append("Content-Type: "sv).append(c.exitContentType()).append("\r\n"sv);
    out.append("Content-Length: "sv);
    appendNumber(out, body.size());
    out.append("\r\nServer: "sv).append(kServer);
    out.append("\r\nX-Kong-Response-Latency: "sv);
    appendNumber(out, latencyUs / 1000);
    out.append("\r\n"sv);
    appendEdited(out, c.responseEdits);
    if (!keepAlive)
      out.append("Connection: close\r\n"sv);
    else if (versionMinor == 0)
      out.append("Connection: keep-alive\r\n"sv);
    out.append("\r\n"sv);
    if (!head) out.append(body);
  }

  // Fills the request fields plugins read. Views point into `base` (and `path` into the
  // normalised copy when there is one), so this runs again after the buffer moved.
  static void describeRequest(plugins::Context& c, const http::RequestHead& req, const char* base,
                              std::string_view path, std::string_view host) {
    c.bindRequest(&req, base);
    c.method = req.method.in(base);
    c.rawPath = req.path.in(base);
    c.path = path;
    c.query = req.query.in(base);
    c.host = host;
    c.contentLength = req.contentLength;
    c.chunked = req.chunked;
    c.expectContinue = req.expectContinue;
  }

  // A live downstream connection, registered for timeouts, drain and shutdown. What it waits
  // on decides which socket the sweeper cancels when its deadline passes.
  struct Session {
    tcp::socket* client = nullptr;
    UpstreamConn* upstream = nullptr;
    Clock::time_point deadline = Clock::time_point::max();
    bool timedOut = false;
    bool busy = false;
    trace::TraceRecorder* rec = nullptr;  // active while the current request is traced
  };

  asio::io_context& ctx;
  const SnapshotSource& source;
  ProxyLimits limits;
  metrics::WorkerStats& stats;
  net::DnsCache dnsCache;  // hostnames of services and targets, with their records' TTLs
  asio::steady_timer sweeper;
  http::Limits parseLimits;
  http::Limits responseLimits;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::list<Session> sessions;
  bool draining = false;
  bool sweeping = false;

  std::shared_ptr<const Snapshot> snapshot;
  std::uint64_t generation = ~std::uint64_t{0};

  // kBufferSize buffers for client and upstream connections (shared: see IoBuffer).
  std::shared_ptr<net::BufferPool> buffers =
      std::make_shared<net::BufferPool>(kBufferSize, kPooledBuffers);
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConn>>> pool;
  // The access log entry being written (one at a time: filling it never suspends); a member,
  // not in each connection's coroutine frame.
  AccessEntry accessEntry;
  // Trace recorders (~3 KiB each) of finished requests, for the next traced ones.
  std::vector<std::unique_ptr<trace::TraceRecorder>> recorders;
  std::unique_ptr<trace::TraceRecorder> takeRecorder() {
    if (recorders.empty()) return std::make_unique<trace::TraceRecorder>();
    auto r = std::move(recorders.back());
    recorders.pop_back();
    return r;
  }
  void giveRecorder(std::unique_ptr<trace::TraceRecorder> r) {
    if (recorders.size() < kPooledRecorders) recorders.push_back(std::move(r));
  }
  // Per-worker picking state of each upstream (round-robin cursor, active connections,
  // latency), by upstream id; it carries over config reloads.
  std::unordered_map<std::string, balancer::WorkerState> balancerStates;
  UpstreamTls upstreamTls;  // https services: contexts per TLS setting, sessions per pool
  UpstreamErrorLog upstreamErrors;  // failures answered to clients, into the error log

  const std::shared_ptr<const Snapshot>& currentSnapshot() {
    auto gen = source.generation();
    if (gen != generation) {
      snapshot = source.load();
      generation = gen;
    }
    return snapshot;
  }

  // Timeouts without a timer per operation: each session keeps one deadline, a 50 ms sweep
  // cancels the sockets of sessions past it. Re-arming a deadline is a store, not a syscall.
  void startSweeper() {
    if (sweeping) return;
    sweeping = true;
    sweeper.expires_after(std::chrono::milliseconds(50));
    sweeper.async_wait([this](boost::system::error_code ec) {
      sweeping = false;
      if (ec) return;
      const auto now = Clock::now();
      for (auto& s : sessions) {
        if (s.deadline < now && !s.timedOut) {
          s.timedOut = true;
          boost::system::error_code ignored;
          s.client->cancel(ignored);
          if (s.upstream) s.upstream->socket.cancel(ignored);
        }
      }
      if (++sweeps % 20 == 0) sweepPools(now);
      if (!sessions.empty() || !draining) startSweeper();
    });
  }

  // Once a second: pooled connections idle past the keepalive timeout are closed and empty
  // pools dropped, so pools named after what clients send (https with preserve_host: the SNI)
  // cannot pile up, and neither can their TLS sessions.
  std::uint64_t sweeps = 0;
  void sweepPools(Clock::time_point now) {
    for (auto it = pool.begin(); it != pool.end();) {
      std::erase_if(it->second, [&](const std::unique_ptr<UpstreamConn>& c) {
        return now - c->idleSince > limits.upstreamIdleTimeout;
      });
      it = it->second.empty() ? pool.erase(it) : std::next(it);
    }
    upstreamTls.trim(limits.upstreamPoolSize);
  }

  awaitable<void> acceptLoop(tcp::acceptor* acceptor) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        core::log::warn("accept failed", {{"error", ec.message()}});
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      socket.non_blocking(true, ec);  // for trySend
      asio::co_spawn(ctx, serve(std::move(socket)), asio::detached);
    }
  }

  std::unique_ptr<UpstreamConn> takePooled(const std::string& key) {
    auto it = pool.find(key);
    if (it == pool.end()) return nullptr;
    auto& v = it->second;
    while (!v.empty()) {
      auto c = std::move(v.back());
      v.pop_back();
      // The peek costs a syscall per request, so it is only made for connections idle long
      // enough for an upstream keepalive timeout to have closed them. A connection that died
      // sooner is still caught: a reused connection that fails before answering is retried
      // on a fresh one (see the response read in serve()).
      const auto idle = Clock::now() - c->idleSince;
      if (idle > limits.upstreamIdleTimeout ||
          (idle > std::chrono::milliseconds(500) && idleConnectionDead(c->socket))) {
        continue;
      }
      return c;
    }
    return nullptr;
  }

  void givePooled(const std::string& key, std::unique_ptr<UpstreamConn> c) {
    if (draining || c->requests >= limits.upstreamMaxRequests || c->buffer.size() != 0) return;
    auto& v = pool[key];
    if (v.size() >= limits.upstreamPoolSize) return;
    c->idleSince = Clock::now();
    // A pool buffer goes back for other connections; one grown for relaying bodies stays (the
    // next large response would allocate it again).
    if (c->buffer.capacity() <= kBufferSize) c->buffer.releaseIfEmpty();
    v.push_back(std::move(c));
  }

  awaitable<Failure> resolve(const std::string& host, std::uint16_t port,
                             std::vector<tcp::endpoint>& out) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (!ec) {
      out.assign(1, tcp::endpoint(addr, port));
      co_return Failure::none;
    }
    auto found = co_await dnsCache.lookup(host);
    if (found.status != net::DnsStatus::ok || !found.addresses || found.addresses->empty())
      co_return Failure::dns;
    out.clear();
    // An SRV record brings its own port (Kong: the target's port is then ignored).
    for (const auto& a : *found.addresses) out.emplace_back(a.ip, a.port ? a.port : port);
    co_return Failure::none;
  }

  // A target whose name did not resolve is left out of picks; after dns_error_ttl it is tried
  // again (the cache answers from its negative entry until that expires).
  // Drain cancels the timers (that clears the flags at once), so they never hold it up.
  void retryDnsLater(const balancer::UpstreamBalancer& b, int index) {
    auto timer = std::make_shared<asio::steady_timer>(ctx, dnsCache.resolver().options().errorTtl);
    timer->async_wait([timer, health = b.healthState(), key = b.target(index).key](auto) {
      health->setDnsError(key, false);
    });
    std::erase_if(dnsRetries, [](const auto& w) { return w.expired(); });
    dnsRetries.push_back(timer);
  }
  void cancelDnsRetries() {
    for (auto& w : dnsRetries) {
      if (auto t = w.lock()) t->cancel();
    }
    dnsRetries.clear();
  }
  std::vector<std::weak_ptr<asio::steady_timer>> dnsRetries;

  void arm(Session& s, int ms) { s.deadline = Clock::now() + std::chrono::milliseconds(ms); }
  void arm(Session& s, std::chrono::seconds d) { s.deadline = Clock::now() + d; }
  void disarm(Session& s) { s.deadline = Clock::time_point::max(); }

  // Kong's error: JSON body, Server header, closes when asked.
  static void errorHead(std::string& out, int status, std::string_view body, bool keepAlive,
                        const plugins::EditList* edits = nullptr) {
    out.clear();
    http::appendStatusLine(out, status, reasonFor(status));
    out.append("Content-Type: application/json; charset=utf-8\r\nServer: "sv);
    out.append(kServer);
    out.append("\r\nContent-Length: "sv);
    appendNumber(out, body.size());
    out.append("\r\n"sv);
    if (edits) appendEdited(out, *edits);
    out.append(keepAlive ? "\r\n" : "Connection: close\r\n\r\n");
    out.append(body);
  }

  struct Exchange {
    // in: the request as forwarded
    std::string head;
    const char* bodyData = nullptr;  // the part of the body already in the client buffer
    std::size_t bodyBuffered = 0;
    bool bodyComplete = true;  // everything of the body is in bodyData
    // https services: the TLS setting and the name for SNI and the certificate check
    std::shared_ptr<TlsClient> tls;
    std::string sni;
    // out
    std::unique_ptr<UpstreamConn> conn;
    bool reused = false;
    // The pool `conn` came from and goes back to. Kong's pool name: the peer, and with TLS also
    // the SNI and the TLS setting, so a connection only carries requests it was made for.
    std::string poolKey;
  };

  static void appendTlsKey(Exchange& x) {
    if (!x.tls) return;
    x.poolKey.append("|"sv).append(x.sni).append("|"sv).append(x.tls->id());
  }
  static void servicePoolKey(const core::Service& svc, Exchange& x) {
    x.poolKey.assign(svc.host).append(":"sv);
    appendNumber(x.poolKey, svc.port);
    appendTlsKey(x);
  }

  // Sends the forwarded head and the buffered body on x.conn as far as the socket takes them
  // now. True when all went (or `ec` is set); otherwise `bufs` holds the rest for async_write.
  // Not a coroutine, so the pooled fast path in serve() costs no coroutine frame.
  bool startSend(Session& s, const core::Service& svc, Exchange& x,
                 std::array<asio::const_buffer, 2>& bufs, boost::system::error_code& ec) {
    s.upstream = x.conn.get();
    arm(s, svc.writeTimeout);
    bufs = {asio::buffer(x.head), asio::buffer(x.bodyData, x.bodyBuffered)};
    if (x.conn->tls) return false;  // TLS records are written by the stream, never half
    std::size_t written = 0;
    return trySend(x.conn->socket, bufs, written, ec) || ec;
  }

  // TLS over the fresh connection x.conn: SNI, certificate checks, the pool's last session.
  // A failed handshake (or verification) is a connection failure: 502, retried elsewhere.
  awaitable<Failure> handshake(Session& s, const core::Service& svc, Exchange& x,
                               const std::string& host, std::uint16_t port) {
    UpstreamConn& c = *x.conn;
    c.tls = std::make_unique<TlsStream>(c.socket, x.tls->context());
    c.tlsClient = x.tls;
    SSL* ssl = c.tls->native_handle();
    x.tls->prepare(ssl, x.sni);
    upstreamTls.resume(ssl, x.poolKey);
    s.upstream = &c;
    arm(s, svc.connectTimeout);
    const auto th = Clock::now();
    auto [ec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, kTuple);
    if (s.rec) s.rec->add(trace::names::kUpstreamConnect, th, Clock::now());
    s.upstream = nullptr;
    if (!ec) co_return Failure::none;
    const bool timedOut = s.timedOut;
    s.timedOut = false;
    upstreamTls.forget(x.poolKey);
    std::string target = host;
    target.append(":"sv);
    appendNumber(target, port);
    const long verified = SSL_get_verify_result(ssl);
    if (x.tls->verify() && verified != X509_V_OK) {
      core::log::warn("upstream TLS handshake failed",
                      {{"upstream", std::move(target)},
                       {"error", ec.message()},
                       {"certificate", X509_verify_cert_error_string(verified)}});
    } else {
      core::log::warn("upstream TLS handshake failed",
                      {{"upstream", std::move(target)}, {"error", ec.message()}});
    }
    co_return timedOut ? Failure::timeout : Failure::connect;
  }

  // The balancer side of one request (Kong: a service whose host names an upstream).
  struct Balancing {
    const balancer::UpstreamBalancer* bal = nullptr;
    balancer::WorkerState* ws = nullptr;
    const balancer::HashInput* input = nullptr;
    std::vector<int> tried;  // reused per session
    int current = -1;        // target of the attempt in progress, -1: pick one
    bool started = false;    // onStart() called for `current`
    std::shared_ptr<balancer::TargetHealth> address;  // a hostname target: the picked address
    const std::vector<std::uint32_t>* targetSlots = nullptr;  // stats slot per target
    void finish() {
      if (bal && started) bal->onFinish(*ws, current);
      started = false;
    }
    // A failed try: passive health report, and the next try avoids this target.
    void failed(Failure f) {
      if (!bal || current < 0) return;
      finish();
      if (f == Failure::dns) {
        bal->healthState()->setDnsError(bal->target(current).key, true);
      } else {
        bal->report(current,
                    f == Failure::timeout ? balancer::Outcome::timeout()
                                          : balancer::Outcome::tcpFailure(),
                    address.get());
      }
      address.reset();
      tried.push_back(current);
      current = -1;
    }
  };

  // The stats shard of the target that answered (or failed last), or null.
  metrics::EntityShard* targetShard(const Balancing& b) {
    if (!b.bal || !b.targetSlots || !limits.stats) return nullptr;
    const int t = b.current >= 0 ? b.current : b.tried.empty() ? -1 : b.tried.back();
    if (t < 0 || static_cast<std::size_t>(t) >= b.targetSlots->size()) return nullptr;
    return stats.route((*b.targetSlots)[static_cast<std::size_t>(t)]);
  }

  // One error-log event for a failure answered to the client (upstream_error_log.h).
  void logUpstreamFailure(Failure f, const core::Route& route, const core::Service& svc,
                          const Balancing& b, const Exchange& x, std::string_view clientIp,
                          std::string_view method, std::string_view path, std::string_view host) {
    UpstreamFailureContext c;
    c.kind = f == Failure::timeout  ? UpstreamFailure::timeout
             : f == Failure::invalid ? UpstreamFailure::invalid
             : f == Failure::dns     ? UpstreamFailure::dns
             : f == Failure::noPeer  ? UpstreamFailure::noPeer
                                     : UpstreamFailure::connect;
    c.clientIp = clientIp;
    c.method = method;
    c.path = path;
    c.host = host;
    c.routeId = route.id;
    if (route.name) c.routeName = *route.name;
    c.serviceName = svc.name ? std::string_view(*svc.name) : std::string_view(svc.id);
    c.scheme = svc.protocol;
    c.upstreamHost = svc.host;
    c.upstreamPort = svc.port;
    const int t = !b.bal ? -1 : b.current >= 0 ? b.current : b.tried.empty() ? -1 : b.tried.back();
    if (t >= 0) {
      c.upstreamHost = b.bal->target(t).address.host;
      c.upstreamPort = b.bal->target(t).address.port;
    }
    c.socket = x.conn ? &x.conn->socket : nullptr;
    upstreamErrors.report(c);
  }

  // Connects (or takes a pooled connection) and sends the head and the buffered body. Retries
  // connection failures up to service.retries times on a new connection (with a balancer, on
  // another target); a pooled connection found dead on write is replaced for free.
  awaitable<Failure> sendRequest(Session& s, const core::Service& svc, Exchange& x, Balancing& b) {
    int attemptsLeft = svc.retries + 1;
    Failure last = Failure::connect;
    std::vector<tcp::endpoint> endpoints;
    const std::string* host = &svc.host;
    std::uint16_t port = svc.port;
    if (!b.bal) servicePoolKey(svc, x);
    int endpointsFor = -2;  // the target `endpoints` were resolved for
    while (attemptsLeft > 0 && !draining) {
      bool addressPicked = false;
      if (b.bal) {
        if (b.current < 0) b.current = b.bal->pick(*b.ws, *b.input, b.tried);
        if (b.current < 0) co_return Failure::noPeer;
        const auto& t = b.bal->target(b.current);
        host = &t.address.host;
        port = t.address.port;
        x.poolKey.assign(t.key);
        if (!t.address.isIp) {
          // Kong: each address the target's name resolves to is an entry of the balancer (an
          // SRV answer with its own weight and port); its connections have a pool of their own.
          auto addresses = dnsCache.fresh(*host);
          if (!addresses) {
            auto found = co_await dnsCache.lookup(*host);
            if (found.status == net::DnsStatus::ok) addresses = std::move(found.addresses);
          }
          if (!addresses || addresses->empty()) {
            --attemptsLeft;
            last = Failure::dns;
            retryDnsLater(*b.bal, b.current);
            b.failed(last);
            continue;
          }
          const int k = b.bal->pickAddress(*b.ws, b.current, addresses);
          if (k < 0) {  // every address of the name is unhealthy: pick() now skips the target
            b.current = -1;
            continue;
          }
          b.address = b.bal->addressHealth(*b.ws, b.current, k);
          const auto& a = (*addresses)[static_cast<std::size_t>(k)];
          endpoints.assign(1, tcp::endpoint(a.ip, a.port ? a.port : port));
          endpointsFor = -3;  // not a resolution to reuse for the next try
          addressPicked = true;
          appendEndpointKey(x.poolKey, endpoints.front());
        }
        appendTlsKey(x);
      }
      x.conn = takePooled(x.poolKey);
      x.reused = x.conn != nullptr;
      if (!x.conn) {
        --attemptsLeft;
        if (!addressPicked && (endpointsFor != b.current || endpoints.empty())) {
          if (auto f = co_await resolve(*host, port, endpoints); f != Failure::none) {
            if (!b.bal) co_return f;
            last = f;
            retryDnsLater(*b.bal, b.current);
            b.failed(f);
            continue;
          }
          endpointsFor = b.current;
        }
        x.conn = std::make_unique<UpstreamConn>(ctx, buffers);
        x.conn->head.reserve(responseLimits);
        s.upstream = x.conn.get();
        arm(s, svc.connectTimeout);
        const auto tc = Clock::now();
        auto [cec, ep] = co_await asio::async_connect(x.conn->socket, endpoints, kTuple);
        if (s.rec) s.rec->add(trace::names::kUpstreamConnect, tc, Clock::now());
        s.upstream = nullptr;
        if (cec) {
          last = s.timedOut ? Failure::timeout : Failure::connect;
          upstreamErrors.connectFailed(cec, endpoints.empty() ? tcp::endpoint() : endpoints.back(),
                                       s.timedOut);
          s.timedOut = false;
          b.failed(last);
          continue;
        }
        upstreamErrors.connected();
        x.conn->socket.set_option(tcp::no_delay(true), cec);
        x.conn->socket.non_blocking(true, cec);  // for trySend
        if (x.tls) {
          if (auto hf = co_await handshake(s, svc, x, *host, port); hf != Failure::none) {
            last = hf;
            b.failed(last);
            continue;
          }
        }
      }
      std::array<asio::const_buffer, 2> bufs;
      boost::system::error_code wec;
      if (!startSend(s, svc, x, bufs, wec)) {
        auto [aec, an] = co_await upstreamWrite(*x.conn, bufs);
        wec = aec;
      }
      s.upstream = nullptr;
      if (!wec) {
        if (b.bal && !b.started) {
          b.bal->onStart(*b.ws, b.current);
          b.started = true;
        }
        co_return Failure::none;
      }
      if (s.timedOut) co_return Failure::timeout;
      if (!x.reused) {
        last = Failure::connect;
        b.failed(last);
      }
      // A pooled connection the upstream closed meanwhile: retry on another one.
    }
    co_return last;
  }

  // Relays `remaining` body bytes (or a chunked body, or everything until EOF) from the client
  // to the upstream connection, or from it to the client when `toClient`, using `buf` (which is
  // empty on entry). Returns false on any I/O error.
  enum class Framing { none, length, chunked, untilClose };
  awaitable<bool> relayBody(Session& s, tcp::socket& client, UpstreamConn& up, bool toClient,
                            IoBuffer& buf, Framing framing, std::uint64_t remaining,
                            http::ChunkedScanner* scanner, int readTimeoutMs, int writeTimeoutMs) {
    buf.ensureStorage();
    buf.clear();
    if (framing != Framing::length || remaining > buf.capacity())
      buf.reserveEmpty(kRelayBufferSize);
    for (;;) {
      if (framing == Framing::length && remaining == 0) co_return true;
      if (framing == Framing::chunked && scanner->done()) co_return true;
      buf.clear();
      std::size_t want = buf.spaceSize();
      if (framing == Framing::length)
        want = static_cast<std::size_t>(std::min<std::uint64_t>(want, remaining));
      arm(s, readTimeoutMs);
      // (No co_await inside ?: : GCC 12 destroys such temporaries twice.)
      const auto space = asio::buffer(buf.space(), want);
      IoResult got;
      if (toClient)
        got = co_await upstreamRead(up, space);
      else
        got = co_await client.async_read_some(net::DrainingBuffer(space.data(), space.size()),
                                              kTuple);
      auto [rec, n] = got;
      if (rec) {
        co_return framing == Framing::untilClose&& rec == asio::error::eof && !s.timedOut;
      }
      buf.produced(n);
      std::size_t take = n;
      if (framing == Framing::length) remaining -= n;
      if (framing == Framing::chunked) {
        take = scanner->feed(buf.data(), n);
        if (scanner->error() || take < n) co_return false;  // bytes past the body: not ours
      }
      arm(s, writeTimeoutMs);
      const auto data = asio::buffer(buf.data(), take);
      IoResult put;
      if (toClient)
        put = co_await asio::async_write(client, data, kTuple);
      else
        put = co_await upstreamWrite(up, data);
      if (std::get<0>(put)) co_return false;
    }
  }

  awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint clientEp = socket.remote_endpoint(ec);
    const std::string clientIp = clientEp.address().to_string();
    const std::uint16_t localPortNum = socket.local_endpoint(ec).port();
    std::string localPort;
    appendNumber(localPort, localPortNum);
    tcp::socket client(std::move(socket));
    sessions.push_back(Session{&client, nullptr});
    auto self = std::prev(sessions.end());
    Session& s = *self;
    stats.connectionOpened();
    startSweeper();

    IoBuffer in(buffers);  // no storage while the connection waits for a request
    http::RequestHead req;
    req.reserve(parseLimits);
    http::ParseError perr;
    std::string normalized, target, out;
    Exchange x;
    x.head.reserve(1024);
    out.reserve(1024);
    http::ChunkedScanner reqScanner, resScanner;
    Balancing bal;
    plugins::Context pctx;
    std::vector<std::uint64_t> pluginNs;
    std::unique_ptr<trace::TraceRecorder> rec;  // from the worker's pool while a request is traced
    const bool tracingOn = limits.sampler && limits.traces;
    std::string traceMethod, traceHost, tracePath;  // the summary's fields, stable to the end
    const router::CompiledRoute* tracedRoute = nullptr;
    bool traced = false;
    Clock::time_point tFirst{};
    const bool accessOn = limits.accessLog != nullptr;
    // Ends the request: its access log entry, and its trace, which the sampler keeps (head
    // rate, errors, slow) or drops.
    auto endTrace = [&](const metrics::RequestSample& sample, int upstreamSt) {
      const int st = sample.status;
      if (accessOn && limits.accessLog->wanted()) {
        AccessEntry& access = accessEntry;  // filled and pushed without a suspension
        access.timeMs = wallMs();
        access.totalUs = sample.totalUs;
        access.upstreamUs = sample.upstreamUs;
        access.bytesIn = sample.bytesIn;
        access.bytesOut = sample.bytesOut;
        access.status = static_cast<std::uint16_t>(st);
        access.method.assign(traceMethod);
        access.clientIp.assign(clientIp);
        access.path.assign(tracePath);
        const core::Route* r = tracedRoute ? tracedRoute->route : nullptr;
        const core::Service* sv = tracedRoute ? tracedRoute->service : nullptr;
        access.route.assign(!r ? std::string_view{} : r->name ? std::string_view(*r->name) : std::string_view(r->id));
        access.service.assign(!sv ? std::string_view{} : sv->name ? std::string_view(*sv->name) : std::string_view(sv->id));
        access.consumer.assign(pctx.consumer && pctx.consumer->username
                                   ? std::string_view(*pctx.consumer->username)
                                   : std::string_view{});
        access.traceId.assign(traced ? rec->traceIdHex() : std::string_view{});
        limits.accessLog->push(limits.workerIndex, access);
      }
      if (!traced || !rec->active()) return;
      trace::RequestSummary sum;
      sum.method = traceMethod;
      sum.host = traceHost;
      sum.path = tracePath;
      sum.clientIp = clientIp;
      if (tracedRoute) {
        sum.routeId = tracedRoute->route->id;
        if (tracedRoute->route->name) sum.routeName = *tracedRoute->route->name;
        if (tracedRoute->service)
          sum.serviceName = tracedRoute->service->name ? std::string_view(*tracedRoute->service->name)
                                                      : std::string_view(tracedRoute->service->id);
      }
      sum.status = st;
      sum.upstreamStatus = upstreamSt;
      sum.totalUs = usSince(tFirst);
      rec->finish(sum, *limits.sampler, *limits.traces);
      s.rec = nullptr;
    };
    std::string plainBody;  // a de-chunked body for plugins
    const char* curBase = nullptr;
    std::string hashPath;
    HashContext hashCtx;
    hashCtx.base = &curBase;
    balancer::HashInput hashInput;
    hashInput.context = &hashCtx;
    hashInput.header = [](const void* c, std::string_view n) {
      return static_cast<const HashContext*>(c)->header(n);
    };
    hashInput.cookie = [](const void* c, std::string_view n) {
      return static_cast<const HashContext*>(c)->cookie(n);
    };
    hashInput.queryArg = [](const void* c, std::string_view n) {
      return static_cast<const HashContext*>(c)->queryArg(n);
    };
    hashInput.uriCapture = [](const void* c, std::string_view n) {
      return static_cast<const HashContext*>(c)->uriCapture(n);
    };
    // The winning regex's captures, extracted only for a balancer hashing on uri_capture or a
    // plugin reading them; views into capturePath, which stays put for the whole request.
    router::Captures uriCaptures;
    std::string capturePath;
    hashCtx.captures = &uriCaptures;
    const auto clientTimeoutMs = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(limits.clientTimeout).count());

    while (!draining) {
      // ---- read the request head ----
      http::ParseStatus ps = http::ParseStatus::incomplete;
      bool clientGone = false;
      std::uint64_t bytesIn = 0;
      s.busy = false;
      if (rec) {  // an idle connection holds no recorder
        s.rec = nullptr;
        giveRecorder(std::move(rec));
      }
      bool haveFirst = false;
      for (;;) {
        if (in.size() > 0) {
          if (!haveFirst) {
            tFirst = Clock::now();
            haveFirst = true;
          }
          ps = http::parseRequestHead(in.data(), in.size(), parseLimits, req, perr);
          if (ps != http::ParseStatus::incomplete) break;
        }
        if (in.hasStorage() && in.spaceSize() == 0 &&
            !in.makeRoom(limits.maxHeaderBytes + kBufferSize)) {
          ps = http::ParseStatus::error;
          perr = {431, "Request Header Fields Too Large"};
          break;
        }
        // Waiting for a request holds no buffer: the read takes one when bytes arrive.
        in.releaseIfEmpty();
        arm(s, limits.clientTimeout);
        auto [rec, n] = co_await client.async_read_some(net::PooledRead(in, kBufferSize), kTuple);
        if (rec) {
          clientGone = true;
          break;
        }
        in.produced(n);
        s.busy = true;
      }
      if (clientGone || draining) break;
      s.busy = true;
      const auto t0 = Clock::now();
      if (ps == http::ParseStatus::error) {
        std::string body = "{\"message\":\"" + std::string(perr.message) + "\"}";
        errorHead(out, perr.status, body, false);
        arm(s, 5000);
        co_await asio::async_write(client, asio::buffer(out), kTuple);
        recordSample(nullptr, {perr.status, usSince(t0), 0, in.size(), out.size(), false});
        break;
      }
      const char* base = in.data();
      curBase = base;
      hashCtx.valid = false;
      traced = tracingOn && limits.sampler->enabled();
      tracedRoute = nullptr;
      if (traced) {
        if (!rec) rec = takeRecorder();
        int tp = req.find(base, "traceparent");
        rec->start(tFirst,
                  tp < 0 ? std::string_view{} : req.headers[static_cast<std::size_t>(tp)].value.in(base),
                  *limits.sampler);
        rec->add(trace::names::kReadHeaders, tFirst, t0);
        s.rec = rec.get();
      } else {
        s.rec = nullptr;
      }
      bytesIn = req.headEnd;
      const bool head = req.methodId == http::Method::head;
      bool keepAlive = req.keepAlive;

      // ---- route ----
      std::shared_ptr<const Snapshot> snap = currentSnapshot();  // held for this request
      std::string_view rawPath = req.path.in(base);
      std::string_view path = rawPath;
      bool badPath = false, normalizedPath = false;
      if (rawPath.find('%') != std::string_view::npos ||
          rawPath.find("/.") != std::string_view::npos ||
          rawPath.find("//") != std::string_view::npos) {
        badPath = !router::normalizePath(rawPath, normalized);
        path = normalized;
        normalizedPath = true;
      }
      router::RequestView view;
      view.method = req.method.in(base);
      view.host = !req.authority.empty() ? req.authority.in(base)
                  : req.host >= 0        ? req.headers[req.host].value.in(base)
                                         : std::string_view{};
      view.path = path;
      struct HeaderCtx {
        const http::RequestHead* req;
        const char* base;
      } hctx{&req, base};
      if (snap->router->usesHeaders()) {
        view.headerContext = &hctx;
        view.header = [](const void* c, std::string_view name) -> std::string_view {
          const auto* h = static_cast<const HeaderCtx*>(c);
          int i = h->req->find(h->base, name);
          return i < 0 ? std::string_view{} : h->req->headers[i].value.in(h->base);
        };
      }
      router::Match m;
      if (!badPath && !path.empty() && path[0] == '/') m = snap->router->match(view);
      pctx.consumer = nullptr;  // the access log reads it; plugins set it for this request
      if (traced) rec->add(trace::names::kRoute, t0, Clock::now());
      if (traced || accessOn) {
        traceMethod.assign(req.method.in(base));
        traceHost.assign(view.host);
        tracePath.assign(path);
        tracedRoute = m.route;
      }
      const bool hasBody = req.chunked || req.contentLength > 0;

      int status = 0;
      std::uint64_t bytesOut = 0, upstreamUs = 0;
      bool proxied = false;
      metrics::EntityShard* routeShard = nullptr;
      std::string_view localError;
      if (badPath) {
        status = 400;
        localError = R"({"message":"Bad request"})";
      } else if (!m) {
        status = 404;
        localError = kNoRoute;
      } else if (!m.route->service) {
        routeShard = stats.route(m.route->statsSlot);
        status = 503;
        localError = kNoService;
      }

      if (status) {
        // Answered by the gateway. A body we did not read would desynchronise the connection:
        // close instead of draining it.
        if (hasBody) keepAlive = false;
        keepAlive = keepAlive && !draining;
        // Kong runs the global plugins on what no route matched too: their header_filter and
        // log phases see the gateway's own answer (prometheus counts it, http-log ships it).
        const plugins::Chain* global =
            snap->plugins && !snap->plugins->global().empty() ? &snap->plugins->global() : nullptr;
        if (global) {
          pctx.reset();
          pctx.worker = &workerEnv;
          pctx.clientIp = clientIp;
          pctx.startedAtMs = wallMs();
          pctx.trace = traced ? rec.get() : nullptr;
          describeRequest(pctx, req, base, path, view.host);
          pctx.status = status;
          pctx.source = plugins::Source::kong;
          pluginNs.assign(global->entries.size(), 0);
          if (global->phases & plugins::Instance::kHeaderFilter)
            runPhase(*global, pctx, plugins::Instance::kHeaderFilter, pluginNs, false);
        }
        errorHead(out, status, localError, keepAlive, global ? &pctx.responseEdits : nullptr);
        if (head) out.resize(out.size() - localError.size());
        arm(s, clientTimeoutMs);
        auto [wec, wn] = co_await asio::async_write(client, asio::buffer(out), kTuple);
        bytesOut = wn;
        if (global)
          finishPlugins(*snap, *global, pctx, pluginNs, status, usSince(t0), 0, bytesIn, bytesOut);
        metrics::RequestSample sample{status, usSince(t0), 0, bytesIn, bytesOut, false};
        recordSample(routeShard, sample);
        endTrace(sample, 0);
        if (wec || !keepAlive) break;
        in.consume(req.headEnd);
        continue;
      }

      // ---- the route's service and its balancer ----
      const router::CompiledRoute& cr = *m.route;
      const core::Route& route = *cr.route;
      const core::Service& svc = *cr.service;
      routeShard = stats.route(cr.statsSlot);
      bal.bal = nullptr;
      bal.targetSlots = nullptr;
      bal.current = -1;
      bal.started = false;
      bal.address.reset();
      bal.tried.clear();
      Failure early = Failure::none;
      uriCaptures.clear();
      bool capturesReady = false;
      auto fillCaptures = [&] {
        if (capturesReady) return;
        capturesReady = true;
        if (!m.byRegex()) return;
        capturePath.assign(path);
        snap->router->captures(m, capturePath, uriCaptures);
      };
      if (!snap->serviceBalancers.empty()) {
        if (auto bit = snap->serviceBalancers.find(&svc); bit != snap->serviceBalancers.end()) {
          bal.bal = bit->second.balancer.get();
          bal.targetSlots = &bit->second.targetStatsSlots;
          bal.ws = &balancerStates[bal.bal->upstreamId()];
          hashCtx.req = &req;
          hashCtx.valid = true;
          hashCtx.madeCookie.clear();
          hashCtx.cookieName = bal.bal->cookieName();
          hashInput.ip = clientIp;
          hashPath.assign(path);  // `path` may point into a buffer that moves before a retry
          hashInput.path = hashPath;
          bal.input = &hashInput;
          if (bal.bal->hashesOnUriCapture()) fillCaptures();
          bal.current = bal.bal->pick(*bal.ws, hashInput, {});
          if (bal.current < 0) early = Failure::noPeer;
        }
      }
      // ---- plugins: rewrite and access, before the body unless a plugin reads it ----
      const plugins::Chain* chain = nullptr;
      if (snap->plugins) {
        const auto& ch = snap->plugins->forRoute(cr.index);
        if (!ch.empty()) chain = &ch;
      }
      const bool preflight = req.methodId == http::Method::options;
      if (chain) {
        pctx.reset();
        pctx.worker = &workerEnv;
        pctx.trace = traced ? rec.get() : nullptr;
        if (traced) pctx.traceId = rec->traceIdHex();
        pctx.route = &route;
        pctx.service = &svc;
        pctx.clientIp = clientIp;
        pctx.port = clientEp.port() ? localPortNum : 0;
        pctx.startedAtMs = wallMs();
        describeRequest(pctx, req, base, path, view.host);
        if (chain->needsUriCaptures) {
          fillCaptures();
          pctx.uriCaptures = &uriCaptures;
        }
        if (chain->phases & plugins::Instance::kLog) {
          pctx.requestId = requestIdPrefix;
          char hex[17];
          std::snprintf(hex, sizeof hex, "%016llx",
                        static_cast<unsigned long long>(++requestCounter));
          pctx.requestId.append(hex);
        }
        pluginNs.assign(chain->entries.size(), 0);
        if (!chain->needsRequestBody) {
          if (chain->asyncAccess)
            co_await runAccessAsync(*chain, pctx, pluginNs, preflight);
          else {
            runPhase(*chain, pctx, plugins::Instance::kRewrite, pluginNs, preflight);
            if (!pctx.exited())
              runPhase(*chain, pctx, plugins::Instance::kAccess, pluginNs, preflight);
          }
        }
        if (pctx.exited()) {
          // The body was not read: keep the connection only when all of it is already here.
          const std::size_t here = in.size() - req.headEnd;
          const bool bodyHere =
              !hasBody || (!req.chunked && static_cast<std::int64_t>(here) >= req.contentLength);
          keepAlive = keepAlive && bodyHere && !draining;
          exitHead(out, *chain, pctx, pluginNs, keepAlive, head, usSince(t0), req.versionMinor);
          arm(s, clientTimeoutMs);
          auto [wec, wn] = co_await asio::async_write(client, asio::buffer(out), kTuple);
          const int st = pctx.exitStatus();
          finishPlugins(*snap, *chain, pctx, pluginNs, st, usSince(t0), 0, bytesIn, wn);
          metrics::RequestSample sample{st, usSince(t0), 0, bytesIn, wn, false};
          recordSample(routeShard, sample, consumerShard(*snap, pctx.consumer));
          endTrace(sample, 0);
          if (wec || !keepAlive) break;
          in.consume(req.headEnd + (hasBody ? static_cast<std::size_t>(req.contentLength) : 0));
          continue;
        }
      }


      // ---- the part of the body already read ----
      const char* afterHead = in.data() + req.headEnd;
      const std::size_t extra = in.size() - req.headEnd;
      Framing reqFraming = req.chunked             ? Framing::chunked
                           : req.contentLength > 0 ? Framing::length
                                                   : Framing::none;
      std::uint64_t reqRemaining = 0;
      x.bodyData = afterHead;
      x.bodyBuffered = 0;
      if (reqFraming == Framing::length) {
        x.bodyBuffered = static_cast<std::size_t>(
            std::min<std::uint64_t>(extra, static_cast<std::uint64_t>(req.contentLength)));
        reqRemaining = static_cast<std::uint64_t>(req.contentLength) - x.bodyBuffered;
        if (req.contentLength > static_cast<std::int64_t>(limits.maxBodyBytes)) {
          errorHead(out, 413, R"({"message":"Request size limit exceeded"})", false);
          co_await asio::async_write(client, asio::buffer(out), kTuple);
          recordSample(nullptr, {413, usSince(t0), 0, bytesIn, out.size(), false});
          break;
        }
      } else if (reqFraming == Framing::chunked) {
        reqScanner.reset();
        x.bodyBuffered = reqScanner.feed(afterHead, extra);
        if (reqScanner.error()) {
          errorHead(out, 400, R"({"message":"Bad request"})", false);
          co_await asio::async_write(client, asio::buffer(out), kTuple);
          break;
        }
      }
      x.bodyComplete = reqFraming == Framing::none ||
                       (reqFraming == Framing::length && reqRemaining == 0) ||
                       (reqFraming == Framing::chunked && reqScanner.done());
      if (!x.bodyComplete && req.expectContinue) {
        arm(s, clientTimeoutMs);
        co_await asio::async_write(client, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n", 25),
                                   kTuple);
      }
      // A chunked body a plugin capped (request-size-limiting): its data bytes so far.
      auto overLimit = [&] {
        return chain && pctx.requestBodyLimit >= 0 && reqFraming == Framing::chunked &&
               reqScanner.dataBytes() > static_cast<std::uint64_t>(pctx.requestBodyLimit);
      };
      // request_buffering (Kong's default): read a body of up to kRequestBufferBytes before
      // choosing an upstream connection, so slow clients do not hold upstream connections and
      // a failed connection can be retried. Larger bodies stream. From here on nothing may
      // use views into the buffer taken before (it may move).
      if (!x.bodyComplete && route.requestBuffering &&
          (reqFraming == Framing::chunked || reqRemaining <= kRequestBufferBytes)) {
        bool clientLost = false, badChunk = false;
        while (!x.bodyComplete) {
          if (in.spaceSize() == 0 && !in.makeRoom(req.headEnd + kRequestBufferBytes + 4096)) break;
          std::size_t want = in.spaceSize();
          if (reqFraming == Framing::length)
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, reqRemaining));
          arm(s, clientTimeoutMs);
          auto [rec, n] =
              co_await client.async_read_some(net::DrainingBuffer(in.space(), want), kTuple);
          if (rec) {
            clientLost = true;
            break;
          }
          const char* fresh = in.space();
          in.produced(n);
          if (reqFraming == Framing::length) {
            x.bodyBuffered += n;
            reqRemaining -= n;
            x.bodyComplete = reqRemaining == 0;
          } else {
            x.bodyBuffered += reqScanner.feed(fresh, n);
            if (reqScanner.error()) {
              badChunk = true;
              break;
            }
            x.bodyComplete = reqScanner.done();
          }
          if (overLimit()) break;
        }
        if (clientLost) break;
        if (badChunk) {
          errorHead(out, 400, R"({"message":"Bad request"})", false);
          co_await asio::async_write(client, asio::buffer(out), kTuple);
          break;
        }
        x.bodyData = in.data() + req.headEnd;
        curBase = in.data();
      }
      if (overLimit()) {
        // request-size-limiting on a chunked body: Kong's 413, and the rest is not read.
        errorHead(out, 413, R"({"message":"Request size limit exceeded"})", false);
        co_await asio::async_write(client, asio::buffer(out), kTuple);
        recordSample(nullptr, {413, usSince(t0), 0, bytesIn, out.size(), false});
        break;
      }
      bytesIn += x.bodyBuffered;
      const std::size_t clientBody = x.bodyBuffered;  // what to consume from `in`

      // The buffer may have moved while the body was read: views into it are taken again.
      base = in.data();
      curBase = base;
      if (!normalizedPath) path = req.path.in(base);
      view.host = !req.authority.empty() ? req.authority.in(base)
                  : req.host >= 0        ? req.headers[req.host].value.in(base)
                                         : std::string_view{};
      view.method = req.method.in(base);
      if (chain) {
        describeRequest(pctx, req, base, path, view.host);
        if (chain->needsRequestBody) {
          if (x.bodyComplete) {
            if (reqFraming == Framing::chunked) {
              dechunk(x.bodyData, x.bodyBuffered, plainBody);
              pctx.setBody(plainBody);
            } else {
              pctx.setBody(std::string_view(x.bodyData, x.bodyBuffered));
            }
          }
          if (chain->asyncAccess)
            co_await runAccessAsync(*chain, pctx, pluginNs, preflight);
          else {
            runPhase(*chain, pctx, plugins::Instance::kRewrite, pluginNs, preflight);
            if (!pctx.exited())
              runPhase(*chain, pctx, plugins::Instance::kAccess, pluginNs, preflight);
          }
          if (pctx.exited()) {
            keepAlive = keepAlive && x.bodyComplete && !draining;
            exitHead(out, *chain, pctx, pluginNs, keepAlive, head, usSince(t0), req.versionMinor);
            arm(s, clientTimeoutMs);
            auto [wec, wn] = co_await asio::async_write(client, asio::buffer(out), kTuple);
            const int st = pctx.exitStatus();
            finishPlugins(*snap, *chain, pctx, pluginNs, st, usSince(t0), 0, bytesIn, wn);
            metrics::RequestSample sample{st, usSince(t0), 0, bytesIn, wn, false};
            recordSample(routeShard, sample, consumerShard(*snap, pctx.consumer));
            endTrace(sample, 0);
            if (wec || !keepAlive) break;
            in.consume(req.headEnd + clientBody);
            continue;
          }
        }
      }

      // ---- build the upstream request ----
      std::string_view rest =
          route.stripPath ? path.substr(std::min(m.matchedLength, path.size())) : path;
      std::string_view servicePath = svc.path ? std::string_view(*svc.path) : std::string_view("/");
      target.clear();
      if (rest.empty()) {
        target.append(servicePath);
      } else if (servicePath.back() == '/' && rest.front() == '/') {
        target.append(servicePath).append(rest.substr(1));
      } else if (route.pathHandling == "v1" && servicePath.back() != '/' && rest.front() != '/') {
        target.append(servicePath).append("/"sv).append(rest);
      } else if (!svc.path && rest.front() != '/') {
        target.append("/"sv).append(rest);
      } else {
        target.append(svc.path ? servicePath : std::string_view()).append(rest);
      }
      if (chain && pctx.upstreamPathSet) target = pctx.upstreamPath;
      if (chain && pctx.upstreamQuerySet) {
        if (!pctx.upstreamQuery.empty()) target.append("?"sv).append(pctx.upstreamQuery);
      } else if (!req.query.empty()) {
        target.append("?"sv).append(req.query.in(base));
      }
      const bool bodyReplaced = chain && pctx.upstreamBodySet && x.bodyComplete;
      const bool edits = chain && !pctx.requestEdits.empty();
      // A plugin that sets Host (request-transformer) replaces the proxy's own Host line.
      const bool hostEdited = edits && editedAway(pctx.requestEdits, "host");

      x.head.clear();
      http::appendRequestLine(
          x.head, chain && pctx.upstreamMethodSet ? std::string_view(pctx.upstreamMethod)
                                                   : req.method.in(base),
          target);
      std::string_view xff;
      std::string_view hostValue = view.host;
      for (const auto& h : req.headers) {
        if (h.hopByHop) continue;
        if (h.id == http::HeaderId::host) {
          if (route.preserveHost && !hostEdited) http::appendHeader(x.head, "Host", h.value.in(base));
          continue;
        }
        std::string_view name = h.name.in(base);
        if (bodyReplaced && h.id == http::HeaderId::contentLength) continue;
        if (edits && editedAway(pctx.requestEdits, name)) continue;
        switch (ownedHeader(name)) {
          case Owned::none:
            break;
          case Owned::xForwardedFor:
            xff = h.value.in(base);
            continue;
          case Owned::expect:
            if (req.expectContinue) continue;
            break;
          case Owned::forwarded:
          case Owned::via:
            continue;
          case Owned::traceparent:
            if (traced) continue;  // ours replaces it below
            break;
        }
        x.head.append(name).append(": "sv).append(h.value.in(base)).append("\r\n"sv);
      }
      // https services: the worker's TLS client for the service's setting, and SNI = the Host
      // sent upstream (Kong: proxy_ssl_server_name on, the name is the upstream Host).
      const bool tlsUpstream = svc.protocol.size() == 5 && svc.protocol == "https";
      if (tlsUpstream) {
        x.tls = upstreamTls.forService(snap->generation, *snap->config, svc);
        std::string_view sniHost;
        if (hostEdited)
          sniHost = editedValue(pctx.requestEdits, "host");
        else if (route.preserveHost && req.host >= 0)
          sniHost = req.headers[req.host].value.in(base);
        else if (bal.bal && bal.bal->hostHeader())
          sniHost = *bal.bal->hostHeader();
        else if (bal.bal && bal.current >= 0)
          sniHost = bal.bal->target(bal.current).address.host;
        else
          sniHost = svc.host;
        x.sni.assign(hostWithoutPort(sniHost));
      } else if (x.tls) {
        x.tls.reset();
      }
      if ((!route.preserveHost || req.host < 0) && !hostEdited) {
        // Kong: the service host, or with an upstream the picked target's host (or the
        // upstream's host_header); the port unless it is the scheme's default.
        std::string_view hostName = svc.host;
        std::uint16_t hostPort = svc.port;
        if (bal.bal && bal.current >= 0) {
          const auto& t = bal.bal->target(bal.current);
          hostName = t.address.host;
          hostPort = t.address.port;
        }
        if (bal.bal && bal.bal->hostHeader()) {
          x.head.append("Host: "sv).append(*bal.bal->hostHeader());
        } else {
          x.head.append("Host: "sv).append(hostName);
          if (!((hostPort == 80 && svc.protocol == "http") ||
                (hostPort == 443 && svc.protocol == "https"))) {
            x.head.append(":"sv);
            appendNumber(x.head, hostPort);
          }
        }
        x.head.append("\r\n"sv);
      }
      if (req.chunked && !bodyReplaced) x.head.append("Transfer-Encoding: chunked\r\n"sv);
      if (bodyReplaced) {
        x.head.append("Content-Length: "sv);
        appendNumber(x.head, pctx.upstreamBody.size());
        x.head.append("\r\n"sv);
      }
      x.head.append("X-Forwarded-For: "sv);
      if (!xff.empty()) x.head.append(xff).append(", "sv);
      x.head.append(clientIp).append("\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: "sv);
      std::string_view hostOnly = hostValue;
      if (auto colon = hostOnly.rfind(':');
          colon != std::string_view::npos && hostOnly.find(']') == std::string_view::npos) {
        hostOnly = hostOnly.substr(0, colon);
      }
      x.head.append(hostOnly).append("\r\nX-Forwarded-Port: "sv).append(localPort);
      x.head.append("\r\nX-Forwarded-Path: "sv).append(path);
      if (route.stripPath && m.matchedLength > 0) {
        x.head.append("\r\nX-Forwarded-Prefix: "sv).append(path.substr(0, m.matchedLength));
      }
      x.head.append("\r\nX-Real-IP: "sv)
          .append(clientIp)
          .append("\r\nVia: "sv)
          .append(kVia)
          .append("\r\n"sv);
      if (traced) x.head.append("traceparent: "sv).append(rec->upstreamTraceparent()).append("\r\n"sv);
      if (edits) appendEdited(x.head, pctx.requestEdits);
      x.head.append("\r\n"sv);
      if (chain && (chain->phases & plugins::Instance::kLog)) pctx.upstreamUri = target;
      if (bodyReplaced) {
        x.bodyData = pctx.upstreamBody.data();
        x.bodyBuffered = pctx.upstreamBody.size();
      }

      // ---- send, stream the rest of the body, read the response head ----
      const auto tu = Clock::now();
      Failure f = early;
      if (f == Failure::none) {
        // Fast path, no coroutine frame: a plain service with an idle pooled connection.
        bool sent = false;
        if (!bal.bal) {
          servicePoolKey(svc, x);
          if ((x.conn = takePooled(x.poolKey))) {
            x.reused = true;
            std::array<asio::const_buffer, 2> bufs;
            boost::system::error_code wec;
            if (!startSend(s, svc, x, bufs, wec)) {
              auto [aec, an] = co_await upstreamWrite(*x.conn, bufs);
              wec = aec;
            }
            s.upstream = nullptr;
            if (!wec) {
              sent = true;
            } else if (s.timedOut) {
              f = Failure::timeout;
              sent = true;
            }
          }
        }
        if (!sent) f = co_await sendRequest(s, svc, x, bal);
      }
      bool clientFailed = false;
      if (f == Failure::none && !x.bodyComplete) {
        // Streamed: from here the request cannot be retried.
        in.consume(req.headEnd + clientBody);
        hashCtx.valid = false;
        // The relay reuses (and may regrow) the buffer the head was parsed in.
        if (chain) pctx.detachRequest();
        s.upstream = x.conn.get();
        bool okBody = co_await relayBody(s, client, *x.conn, false, in, reqFraming, reqRemaining,
                                         &reqScanner, clientTimeoutMs, svc.writeTimeout);
        s.upstream = nullptr;
        if (!okBody) {
          clientFailed = true;
          f = s.timedOut ? Failure::timeout : Failure::client;
        }
        bytesIn += reqFraming == Framing::length ? reqRemaining : reqScanner.dataBytes();
      } else {
        in.consume(req.headEnd + clientBody);
        hashCtx.valid = false;
      }
      http::ResponseHead* rh = nullptr;
      while (f == Failure::none) {
        UpstreamConn& c = *x.conn;
        c.head.reset();
        s.upstream = &c;
        arm(s, svc.readTimeout);
        http::ParseError rerr;
        http::ParseStatus rs = http::ParseStatus::incomplete;
        bool gotBytes = false;
        for (;;) {
          if (c.buffer.size() > 0) {
            rs = http::parseResponseHead(c.buffer.data(), c.buffer.size(), responseLimits, c.head,
                                         rerr);
            if (rs == http::ParseStatus::complete && c.head.status >= 100 && c.head.status < 200) {
              c.buffer.consume(c.head.headEnd);  // interim responses are not relayed
              continue;
            }
            if (rs != http::ParseStatus::incomplete) break;
          }
          if (c.buffer.spaceSize() == 0 &&
              !c.buffer.makeRoom(responseLimits.maxHeaderBytes + kBufferSize)) {
            rs = http::ParseStatus::error;
            break;
          }
          auto [rec, n] =
              co_await upstreamRead(c, asio::buffer(c.buffer.space(), c.buffer.spaceSize()));
          if (rec) {
            rs = http::ParseStatus::error;
            if (s.timedOut) f = Failure::timeout;
            break;
          }
          gotBytes = true;
          c.buffer.produced(n);
        }
        s.upstream = nullptr;
        if (rs == http::ParseStatus::complete) {
          rh = &c.head;
          break;
        }
        if (f == Failure::none && x.reused && !gotBytes && x.bodyComplete) {
          // The pooled connection was closed before it answered: resend on a fresh one.
          x.conn.reset();
          bal.finish();
          f = co_await sendRequest(s, svc, x, bal);
          continue;
        }
        if (f == Failure::none) f = Failure::invalid;
      }
      upstreamUs = usSince(tu);
      proxied = true;
      if (traced) rec->add(trace::names::kUpstreamFirstByte, tu, Clock::now(), rec->upstreamSpanId());

      if (f != Failure::none) {
        if (f != Failure::client) {
          logUpstreamFailure(f, route, svc, bal, x, clientIp,
                             x.bodyComplete ? req.method.in(base) : std::string_view(traceMethod),
                             x.bodyComplete ? req.path.in(base) : std::string_view(tracePath),
                             !x.bodyComplete || req.host < 0
                                 ? std::string_view(traceHost)
                                 : req.headers[static_cast<std::size_t>(req.host)].value.in(base));
        }
        x.conn.reset();
        if (f == Failure::client)
          bal.finish();
        else
          bal.failed(f);
        if (clientFailed && f == Failure::client) break;
        s.timedOut = false;
        status = f == Failure::timeout                         ? 504
                 : (f == Failure::dns || f == Failure::noPeer) ? 503
                                                               : 502;
        std::string_view body = f == Failure::timeout  ? kTimeout
                                : f == Failure::dns    ? kNameResolution
                                : f == Failure::noPeer ? kNoPeer
                                                       : kBadGateway;
        // The request body may be half read: only keep the connection when it was complete.
        keepAlive = keepAlive && x.bodyComplete && !clientFailed && !draining;
        if (chain) {
          pctx.status = status;
          pctx.source = plugins::Source::kong;
          pctx.tries = static_cast<int>(bal.tried.size()) + 1;
          if (chain->phases & plugins::Instance::kHeaderFilter)
            runPhase(*chain, pctx, plugins::Instance::kHeaderFilter, pluginNs, false);
        }
        errorHead(out, status, body, keepAlive, chain ? &pctx.responseEdits : nullptr);
        if (head) out.resize(out.size() - body.size());
        arm(s, clientTimeoutMs);
        auto [wec, wn] = co_await asio::async_write(client, asio::buffer(out), kTuple);
        if (chain) {
          finishPlugins(*snap, *chain, pctx, pluginNs, status, usSince(t0), upstreamUs, bytesIn,
                        wn);
        }
        metrics::RequestSample sample{status, usSince(t0), upstreamUs, bytesIn, wn, true};
        recordSample(routeShard, sample, consumerShard(*snap, pctx.consumer), targetShard(bal));
        endTrace(sample, 0);
        if (wec || !keepAlive) break;
        continue;
      }

      // ---- relay the response ----
      UpstreamConn& c = *x.conn;
      status = rh->status;
      Framing resFraming = (head || rh->noBody)     ? Framing::none
                           : rh->chunked            ? Framing::chunked
                           : rh->contentLength >= 0 ? Framing::length
                                                    : Framing::untilClose;
      if (resFraming == Framing::untilClose) keepAlive = false;
      keepAlive = keepAlive && !draining;

      const std::size_t rextra = c.buffer.size() - rh->headEnd;
      std::size_t rbuffered = 0;
      std::uint64_t resRemaining = 0;
      resScanner.reset();
      if (resFraming == Framing::length) {
        rbuffered = static_cast<std::size_t>(
            std::min<std::uint64_t>(rextra, static_cast<std::uint64_t>(rh->contentLength)));
        resRemaining = static_cast<std::uint64_t>(rh->contentLength) - rbuffered;
      } else if (resFraming == Framing::chunked) {
        rbuffered = resScanner.feed(c.buffer.data() + rh->headEnd, rextra);
      } else if (resFraming == Framing::untilClose) {
        rbuffered = rextra;
      }
      bool resComplete = resFraming == Framing::none ||
                         (resFraming == Framing::length && resRemaining == 0) ||
                         (resFraming == Framing::chunked && resScanner.done());
      // response_buffering (Kong's default): take a response of up to kResponseBufferBytes
      // from the upstream before writing to the client, so a slow client does not hold the
      // upstream connection, and the head and body leave in one write. Larger bodies stream.
      const bool pluginsReadBody = chain && chain->needsResponseBody;
      if (!resComplete && (route.responseBuffering || pluginsReadBody) &&
          resFraming != Framing::untilClose &&
          (resFraming == Framing::chunked || resRemaining <= kResponseBufferBytes)) {
        s.upstream = &c;
        while (!resComplete) {
          if (c.buffer.spaceSize() == 0 &&
              !c.buffer.makeRoom(rh->headEnd + kResponseBufferBytes + 4096))
            break;
          std::size_t want = c.buffer.spaceSize();
          if (resFraming == Framing::length)
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, resRemaining));
          arm(s, svc.readTimeout);
          auto [rec, n] = co_await upstreamRead(c, asio::buffer(c.buffer.space(), want));
          if (rec) break;  // the streaming relay below reports the failure
          const char* fresh = c.buffer.space();
          c.buffer.produced(n);
          if (resFraming == Framing::length) {
            rbuffered += n;
            resRemaining -= n;
            resComplete = resRemaining == 0;
          } else {
            std::size_t took = resScanner.feed(fresh, n);
            rbuffered += took;
            if (resScanner.error()) break;
            resComplete = resScanner.done();
          }
        }
        s.upstream = nullptr;
        s.timedOut = false;
      }

      const char* rbase = c.buffer.data();  // after any growth above
      bool resBodyReplaced = false;
      if (chain) {
        pctx.status = status;
        pctx.upstreamStatus = status;
        pctx.source = plugins::Source::upstream;
        pctx.tries = static_cast<int>(bal.tried.size()) + 1;
        pctx.bindResponse(rh, rbase);
        if (pluginsReadBody && resComplete && resFraming != Framing::none) {
          if (resFraming == Framing::chunked) {
            dechunk(rbase + rh->headEnd, rbuffered, plainBody);
            pctx.setResponseBodyView(plainBody);
          } else {
            pctx.setResponseBodyView(std::string_view(rbase + rh->headEnd, rbuffered));
          }
        }
        if (chain->phases & plugins::Instance::kHeaderFilter)
          runPhase(*chain, pctx, plugins::Instance::kHeaderFilter, pluginNs, false);
        if (pctx.responseBodyAvailable && (chain->phases & plugins::Instance::kBodyFilter))
          runPhase(*chain, pctx, plugins::Instance::kBodyFilter, pluginNs, false);
        resBodyReplaced = pctx.responseBodySet && resComplete && resFraming != Framing::none;
      }
      const auto tBody = Clock::now();
      out.clear();
      http::appendStatusLine(out, rh->status, rh->reason.in(rbase));
      if (chain && (resBodyReplaced || !pctx.responseEdits.empty())) {
        appendUnedited(out, rbase, rh->headers, pctx.responseEdits, resBodyReplaced);
        appendEdited(out, pctx.responseEdits);
        if (resBodyReplaced) {
          out.append("Content-Length: "sv);
          appendNumber(out, pctx.newResponseBody.size());
          out.append("\r\n"sv);
        }
      } else {
        http::appendEndToEndHeaders(out, rbase, rh->headers);
      }
      if (rh->chunked && !resBodyReplaced) out.append("Transfer-Encoding: chunked\r\n"sv);
      out.append("Via: "sv).append(kVia).append("\r\nX-Kong-Upstream-Latency: "sv);
      appendNumber(out, upstreamUs / 1000);
      out.append("\r\nX-Kong-Proxy-Latency: "sv);
      appendNumber(out, (usSince(t0) - upstreamUs) / 1000);
      if (!keepAlive)
        out.append("\r\nConnection: close"sv);
      else if (req.versionMinor == 0)
        out.append("\r\nConnection: keep-alive"sv);
      if (bal.bal && !hashCtx.madeCookie.empty()) {
        out.append("\r\nSet-Cookie: "sv)
            .append(bal.bal->cookieName())
            .append("="sv)
            .append(hashCtx.madeCookie);
        out.append("; Path="sv).append(bal.bal->cookiePath());
      }
      out.append("\r\n\r\n"sv);
      arm(s, clientTimeoutMs);
      std::array<asio::const_buffer, 2> bufs{
          asio::buffer(out), resBodyReplaced ? asio::buffer(pctx.newResponseBody)
                                          : asio::buffer(rbase + rh->headEnd, rbuffered)};
      std::size_t wn = 0;
      boost::system::error_code wec;
      if (!trySend(client, bufs, wn, wec) && !wec) {
        auto [aec, an] = co_await asio::async_write(client, bufs, kTuple);
        wec = aec;
        wn += an;
      }
      bytesOut = wn;
      bool upstreamReusable = !wec && rh->keepAlive && !resScanner.error();
      c.buffer.consume(rh->headEnd + rbuffered);
      if (!wec && !resComplete) {
        // The relay reuses the buffer the response head was parsed in: its headers go.
        if (chain) pctx.bindResponse(nullptr, nullptr);
        s.upstream = &c;
        bool okBody = co_await relayBody(s, client, c, true, c.buffer, resFraming, resRemaining,
                                         &resScanner, svc.readTimeout, clientTimeoutMs);
        s.upstream = nullptr;
        c.buffer.clear();
        if (!okBody) {
          upstreamReusable = false;
          keepAlive = false;
        }
        bytesOut += resFraming == Framing::chunked ? resScanner.dataBytes() : resRemaining;
      }
      if (resFraming == Framing::untilClose) upstreamReusable = false;
      if (bal.bal && bal.current >= 0) {
        bal.bal->recordLatency(*bal.ws, bal.current, std::chrono::microseconds(upstreamUs));
        bal.bal->report(bal.current, balancer::Outcome::http(status), bal.address.get());
        bal.finish();
      }
      ++c.requests;
      if (c.tls && !c.sessionSaved) {
        // By now the session tickets of TLS 1.3 have arrived: the next connection resumes.
        upstreamTls.remember(c.tls->native_handle(), x.poolKey);
        c.sessionSaved = true;
      }
      if (traced) rec->add(trace::names::kResponseBody, tBody, Clock::now());
      if (chain) {
        // Before the connection goes: the log phase reads the response head parsed in it.
        finishPlugins(*snap, *chain, pctx, pluginNs, status, usSince(t0), upstreamUs, bytesIn,
                      bytesOut);
        pctx.bindResponse(nullptr, nullptr);
      }
      if (upstreamReusable && c.buffer.size() == 0) {
        givePooled(x.poolKey, std::move(x.conn));
      } else {
        x.conn.reset();
      }
      metrics::RequestSample sample{status, usSince(t0), upstreamUs, bytesIn, bytesOut, proxied};
      recordSample(routeShard, sample, consumerShard(*snap, pctx.consumer), targetShard(bal));
      endTrace(sample, status);
      if (wec || !keepAlive) break;
    }
    disarm(s);
    client.shutdown(tcp::socket::shutdown_send, ec);
    client.close(ec);
    stats.connectionClosed();
    sessions.erase(self);
  }
};

ProxyWorker::ProxyWorker(asio::io_context& ctx, const SnapshotSource& source, ProxyLimits limits)
    : impl_(std::make_unique<Impl>(ctx, source, limits, stats_)) {}

ProxyWorker::~ProxyWorker() = default;

void ProxyWorker::addListener(tcp::acceptor acceptor) {
  impl_->acceptors.push_back(std::make_unique<tcp::acceptor>(std::move(acceptor)));
  asio::co_spawn(impl_->ctx, impl_->acceptLoop(impl_->acceptors.back().get()), asio::detached);
}

void ProxyWorker::drain() {
  impl_->draining = true;
  boost::system::error_code ec;
  for (auto& a : impl_->acceptors) a->close(ec);
  for (auto& s : impl_->sessions) {
    if (!s.busy) s.client->cancel(ec);
  }
  impl_->pool.clear();
  impl_->upstreamTls.clear();
  impl_->cancelDnsRetries();
  if (impl_->sessions.empty()) impl_->sweeper.cancel();
}

void ProxyWorker::forceClose() {
  boost::system::error_code ec;
  impl_->draining = true;
  for (auto& a : impl_->acceptors) a->close(ec);
  for (auto& s : impl_->sessions) {
    s.client->cancel(ec);
    if (s.upstream) s.upstream->socket.cancel(ec);
  }
  impl_->pool.clear();
  impl_->cancelDnsRetries();
  impl_->sweeper.cancel();
}

}  // namespace archway::proxy
