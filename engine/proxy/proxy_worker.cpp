#include "proxy/proxy_worker.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <string>
#include <unordered_map>

#include "core/log.h"
#include "router/path.h"

namespace archway::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

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
constexpr std::string_view kBadRequest = R"({"message":"Bad request"})";
constexpr std::string_view kHeadersTooLarge = R"({"message":"Request header or cookie too large"})";
constexpr std::string_view kBodyTooLarge = R"({"message":"Request size limit exceeded"})";
constexpr std::string_view kBadVersion = R"({"message":"HTTP Version Not Supported"})";

const http::field kHopByHop[] = {http::field::connection,       http::field::keep_alive,
                                 http::field::proxy_connection, http::field::te,
                                 http::field::trailer,          http::field::transfer_encoding,
                                 http::field::upgrade,          http::field::proxy_authorization};

template <class Fields>
void removeHopByHop(Fields& f) {
  // Headers named in Connection are hop-by-hop too.
  auto conn = f[http::field::connection];
  if (!conn.empty()) {
    for (auto token : http::token_list(conn)) {
      std::string_view t(token.data(), token.size());
      if (!beast::iequals(t, "keep-alive") && !beast::iequals(t, "close")) f.erase(t);
    }
  }
  for (auto h : kHopByHop) f.erase(h);
}

std::uint64_t usSince(Clock::time_point t0) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
}

// True when an idle pooled connection was closed by the upstream (EOF or data pending that
// we never asked for): such a connection must not be reused.
bool idleConnectionDead(tcp::socket& s) {
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n > 0) return true;
  return !(errno == EAGAIN || errno == EWOULDBLOCK);
}

struct UpstreamConn {
  explicit UpstreamConn(asio::io_context& ctx) : stream(ctx) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::uint64_t requests = 0;
  Clock::time_point idleSince;
};

enum class Failure { none, connect, timeout, invalid, dns };

}  // namespace

struct ProxyWorker::Impl {
  Impl(asio::io_context& c, const SnapshotSource& s, ProxyLimits l, metrics::WorkerStats& st)
      : ctx(c), source(s), limits(l), stats(st), resolver(c) {}

  // A live downstream connection, registered for drain and shutdown.
  struct Session {
    beast::tcp_stream* client = nullptr;
    UpstreamConn* upstream = nullptr;  // the one in use, if any
    bool busy = false;
  };

  asio::io_context& ctx;
  const SnapshotSource& source;
  ProxyLimits limits;
  metrics::WorkerStats& stats;
  tcp::resolver resolver;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::list<Session> sessions;
  bool draining = false;

  // The worker's view of the published snapshot (refreshed when the generation moves).
  std::shared_ptr<const Snapshot> snapshot;
  std::uint64_t generation = ~std::uint64_t{0};

  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConn>>> pool;
  struct DnsEntry {
    std::vector<tcp::endpoint> endpoints;
    Clock::time_point expires;
  };
  std::unordered_map<std::string, DnsEntry> dns;

  const std::shared_ptr<const Snapshot>& currentSnapshot() {
    auto gen = source.generation();
    if (gen != generation) {
      snapshot = source.load();
      generation = gen;
    }
    return snapshot;
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
      if (Clock::now() - c->idleSince > limits.upstreamIdleTimeout ||
          idleConnectionDead(c->stream.socket())) {
        continue;  // closed by the upstream or idle too long: drop it
      }
      return c;
    }
    return nullptr;
  }

  void givePooled(const std::string& key, std::unique_ptr<UpstreamConn> c) {
    if (draining || c->requests >= limits.upstreamMaxRequests) return;
    auto& v = pool[key];
    if (v.size() >= limits.upstreamPoolSize) return;
    c->idleSince = Clock::now();
    v.push_back(std::move(c));
  }

  awaitable<std::pair<Failure, std::vector<tcp::endpoint>>> resolve(const std::string& host,
                                                                    std::uint16_t port) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (!ec)
      co_return std::pair{Failure::none, std::vector<tcp::endpoint>{tcp::endpoint(addr, port)}};
    std::string key = host + ":" + std::to_string(port);
    auto it = dns.find(key);
    if (it != dns.end() && it->second.expires > Clock::now())
      co_return std::pair{Failure::none, it->second.endpoints};
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), kTuple);
    if (rec || results.empty()) co_return std::pair{Failure::dns, std::vector<tcp::endpoint>{}};
    DnsEntry entry;
    for (const auto& r : results) entry.endpoints.push_back(r.endpoint());
    entry.expires = Clock::now() + std::chrono::seconds(30);
    dns[key] = entry;
    co_return std::pair{Failure::none, entry.endpoints};
  }

  // Sends `req` to the service and reads the response into `res`. Retries connection
  // failures up to service.retries times; a stale pooled connection is retried for free.
  awaitable<Failure> exchange(Session& session, const core::Service& svc,
                              http::request<http::string_body>& req,
                              http::response<http::string_body>& res, bool head) {
    const std::string key = svc.host + ":" + std::to_string(svc.port);
    int attemptsLeft = svc.retries + 1;
    Failure last = Failure::connect;
    while (attemptsLeft > 0) {
      auto conn = takePooled(key);
      bool reused = conn != nullptr;
      if (!conn) {
        --attemptsLeft;
        auto [rf, endpoints] = co_await resolve(svc.host, svc.port);
        if (rf != Failure::none) co_return rf;
        conn = std::make_unique<UpstreamConn>(ctx);
        session.upstream = conn.get();
        conn->stream.expires_after(std::chrono::milliseconds(svc.connectTimeout));
        auto [cec, ep] = co_await conn->stream.async_connect(endpoints, kTuple);
        session.upstream = nullptr;
        if (cec) {
          last = cec == beast::error::timeout ? Failure::timeout : Failure::connect;
          if (draining) break;
          continue;
        }
        conn->stream.socket().set_option(tcp::no_delay(true), cec);
      }
      session.upstream = conn.get();
      conn->stream.expires_after(std::chrono::milliseconds(svc.writeTimeout));
      auto [wec, wn] = co_await http::async_write(conn->stream, req, kTuple);
      if (wec) {
        session.upstream = nullptr;
        if (wec == beast::error::timeout) co_return Failure::timeout;
        if (reused) continue;  // the pooled connection died under us
        last = Failure::connect;
        continue;
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(limits.maxBodyBytes);
      parser.header_limit(static_cast<std::uint32_t>(limits.maxHeaderBytes));
      if (head) parser.skip(true);
      conn->stream.expires_after(std::chrono::milliseconds(svc.readTimeout));
      auto [rec, rn] = co_await http::async_read(conn->stream, conn->buffer, parser, kTuple);
      session.upstream = nullptr;
      if (rec) {
        if (rec == beast::error::timeout) co_return Failure::timeout;
        if (reused && !parser.got_some() &&
            (rec == http::error::end_of_stream || rec == asio::error::connection_reset)) {
          continue;  // closed while idle in the pool, before answering: try a fresh one
        }
        co_return Failure::invalid;
      }
      res = parser.release();
      ++conn->requests;
      if (res.keep_alive() && conn->buffer.size() == 0) givePooled(key, std::move(conn));
      co_return Failure::none;
    }
    co_return last;
  }

  static std::string_view headerLookup(const void* ctx, std::string_view lowerName) {
    const auto& req = *static_cast<const http::request<http::string_body>*>(ctx);
    auto it = req.find(lowerName);
    if (it == req.end()) return {};
    return std::string_view(it->value().data(), it->value().size());
  }

  void prepareUpstreamRequest(http::request<http::string_body>& req,
                              const router::CompiledRoute& cr, const router::Match& m,
                              std::string_view path, std::string_view query,
                              const tcp::endpoint& client, std::uint16_t localPort) {
    const core::Route& route = *cr.route;
    const core::Service& svc = *cr.service;
    std::string_view rest =
        route.stripPath ? path.substr(std::min(m.matchedLength, path.size())) : path;
    std::string servicePath = svc.path.value_or("");
    std::string target = route.pathHandling == "v1" ? router::joinPathV1(servicePath, rest)
                                                    : router::joinPathV0(servicePath, rest);
    if (!query.empty()) {
      target += '?';
      target.append(query);
    }
    std::string originalHost(req[http::field::host]);
    std::string clientIp = client.address().to_string();
    removeHopByHop(req);
    std::string xff(req["X-Forwarded-For"]);
    req.set("X-Forwarded-For", xff.empty() ? clientIp : xff + ", " + clientIp);
    req.set("X-Forwarded-Proto", "http");
    std::string_view hostOnly = originalHost;
    if (auto colon = hostOnly.rfind(':');
        colon != std::string_view::npos && hostOnly.find(']') == std::string_view::npos) {
      hostOnly = hostOnly.substr(0, colon);
    }
    req.set("X-Forwarded-Host", hostOnly);
    req.set("X-Forwarded-Port", std::to_string(localPort));
    req.set("X-Forwarded-Path", path);
    if (route.stripPath && m.matchedLength > 0) {
      req.set("X-Forwarded-Prefix", path.substr(0, m.matchedLength));
    }
    req.set("X-Real-IP", clientIp);
    req.set(http::field::via, kVia);
    if (!route.preserveHost) {
      bool defaultPort = (svc.port == 80 && svc.protocol == "http") ||
                         (svc.port == 443 && svc.protocol == "https");
      req.set(http::field::host,
              defaultPort ? svc.host : svc.host + ":" + std::to_string(svc.port));
    }
    req.target(target);
    req.version(11);
    req.keep_alive(true);
    if (req.body().empty() && !req.has_content_length() && req.method() != http::verb::post &&
        req.method() != http::verb::put && req.method() != http::verb::patch) {
      // no body framing needed
    } else {
      req.prepare_payload();
    }
  }

  static http::response<http::string_body> errorResponse(http::status status,
                                                         std::string_view body) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.set(http::field::server, kServer);
    res.body() = std::string(body);
    res.prepare_payload();
    return res;
  }

  awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint clientEp = socket.remote_endpoint(ec);
    const std::uint16_t localPort = socket.local_endpoint(ec).port();
    beast::tcp_stream client(std::move(socket));
    beast::flat_buffer buffer;
    sessions.push_back(Session{&client, nullptr, false});
    auto self = std::prev(sessions.end());
    stats.connectionOpened();

    while (!draining) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.maxHeaderBytes));
      parser.body_limit(limits.maxBodyBytes);
      client.expires_after(limits.clientTimeout);
      auto [hec, hn] = co_await http::async_read_header(client, buffer, parser, kTuple);
      const auto t0 = Clock::now();
      self->busy = true;
      std::uint64_t bytesIn = hn;
      if (!hec && !parser.is_done()) {
        auto [bec, bn] = co_await http::async_read(client, buffer, parser, kTuple);
        bytesIn += bn;
        hec = bec;
      }
      if (hec) {
        std::optional<http::response<http::string_body>> err;
        const bool quietClose = hec == http::error::end_of_stream || hec == beast::error::timeout ||
                                hec == asio::error::operation_aborted || hec == asio::error::eof ||
                                hec == asio::error::connection_reset ||
                                hec == http::error::partial_message;
        if (hec == http::error::header_limit) {
          err = errorResponse(http::status::request_header_fields_too_large, kHeadersTooLarge);
        } else if (hec == http::error::body_limit) {
          err = errorResponse(http::status::payload_too_large, kBodyTooLarge);
        } else if (hec == http::error::bad_version) {
          err = errorResponse(http::status::http_version_not_supported, kBadVersion);
        } else if (!quietClose) {
          err = errorResponse(http::status::bad_request, kBadRequest);
        }
        if (err) {
          err->keep_alive(false);
          client.expires_after(std::chrono::seconds(5));
          auto [wec, wn] = co_await http::async_write(client, *err, kTuple);
          (void)wec;
          metrics::RequestSample sample{
              static_cast<int>(err->result_int()), usSince(t0), 0, bytesIn, wn, false};
          stats.global().record(sample);
        }
        break;
      }
      auto& req = parser.get();
      const bool head = req.method() == http::verb::head;
      const bool clientKeepAlive = req.keep_alive();
      if (req.version() == 11 && req.find(http::field::host) == req.end()) {
        auto res = errorResponse(http::status::bad_request, kBadRequest);
        res.keep_alive(false);
        co_await http::async_write(client, res, kTuple);
        break;
      }

      std::shared_ptr<const Snapshot> snap = currentSnapshot();  // held for this request
      std::string_view rawTarget(req.target().data(), req.target().size());
      std::string_view rawPath = rawTarget.substr(0, rawTarget.find('?'));
      std::string_view query = rawPath.size() < rawTarget.size()
                                   ? rawTarget.substr(rawPath.size() + 1)
                                   : std::string_view{};
      std::string path;
      http::response<http::string_body> res;
      metrics::EntityShard* routeShard = nullptr;
      std::uint64_t upstreamUs = 0;
      bool proxied = false;
      if (!router::normalizePath(rawPath, path) || path.empty() || path[0] != '/') {
        res = errorResponse(http::status::bad_request, kBadRequest);
      } else {
        router::RequestView view;
        view.method = std::string_view(req.method_string().data(), req.method_string().size());
        auto host = req[http::field::host];
        view.host = std::string_view(host.data(), host.size());
        view.path = path;
        if (snap->router->usesHeaders()) {
          view.headerContext = &req;
          view.header = &headerLookup;
        }
        router::Match m = snap->router->match(view);
        if (!m) {
          res = errorResponse(http::status::not_found, kNoRoute);
        } else if (!m.route->service) {
          routeShard = stats.route(m.route->statsSlot);
          res = errorResponse(http::status::service_unavailable, kNoService);
        } else {
          routeShard = stats.route(m.route->statsSlot);
          prepareUpstreamRequest(req, *m.route, m, path, query, clientEp, localPort);
          const auto tu = Clock::now();
          Failure f = co_await exchange(*self, *m.route->service, req, res, head);
          upstreamUs = usSince(tu);
          proxied = true;
          switch (f) {
            case Failure::none:
              break;
            case Failure::timeout:
              res = errorResponse(http::status::gateway_timeout, kTimeout);
              break;
            case Failure::dns:
              res = errorResponse(http::status::service_unavailable, kNameResolution);
              break;
            case Failure::connect:
            case Failure::invalid:
              res = errorResponse(http::status::bad_gateway, kBadGateway);
              break;
          }
          if (f == Failure::none) {
            removeHopByHop(res);
            res.version(11);
            res.set(http::field::via, kVia);
            res.set("X-Kong-Upstream-Latency", std::to_string(upstreamUs / 1000));
            res.set("X-Kong-Proxy-Latency", std::to_string((usSince(t0) - upstreamUs) / 1000));
            if (!head) {
              res.prepare_payload();
            }
          }
        }
      }
      const bool keepAlive = clientKeepAlive && !draining;
      res.keep_alive(keepAlive);
      client.expires_after(limits.clientTimeout);
      std::uint64_t bytesOut = 0;
      if (head) {
        http::response_serializer<http::string_body> sr(res);
        sr.split(true);
        auto [wec, wn] = co_await http::async_write_header(client, sr, kTuple);
        ec = wec;
        bytesOut = wn;
      } else {
        auto [wec, wn] = co_await http::async_write(client, res, kTuple);
        ec = wec;
        bytesOut = wn;
      }
      metrics::RequestSample sample{
          static_cast<int>(res.result_int()), usSince(t0), upstreamUs, bytesIn, bytesOut, proxied};
      stats.global().record(sample);
      if (routeShard) routeShard->record(sample);
      self->busy = false;
      if (ec || !keepAlive) break;
    }
    client.socket().shutdown(tcp::socket::shutdown_send, ec);
    client.close();
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
    if (!s.busy) s.client->socket().cancel(ec);
  }
  impl_->pool.clear();
}

void ProxyWorker::forceClose() {
  boost::system::error_code ec;
  impl_->draining = true;
  for (auto& a : impl_->acceptors) a->close(ec);
  for (auto& s : impl_->sessions) {
    s.client->socket().cancel(ec);
    if (s.upstream) s.upstream->stream.socket().cancel(ec);
  }
  impl_->pool.clear();
}

}  // namespace archway::proxy
