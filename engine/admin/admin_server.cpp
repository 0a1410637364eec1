#include "admin/admin_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <list>
#include <optional>

namespace archway::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct AdminServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& c, std::shared_ptr<const AdminApi> a, core::BackgroundCpu* b)
      : ctx(c), api(std::move(a)), background(b) {}
  asio::io_context& ctx;
  std::shared_ptr<const AdminApi> api;
  core::BackgroundCpu* background;
  std::list<tcp::acceptor> acceptors;  // a list: accept loops hold references
  // Every open connection's TCP layer, for close(); each entry is removed by its owner.
  std::list<beast::tcp_stream*> connections;
  bool closed = false;

  asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor, std::shared_ptr<ssl::context> tls) {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (closed || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      if (tls) {
        asio::co_spawn(ctx, serveTls(std::move(socket), tls), asio::detached);
      } else {
        asio::co_spawn(ctx, servePlain(std::move(socket)), asio::detached);
      }
    }
  }

  // Server-sent events: one `data: {stats frame}` per interval until the client goes away or
  // the server closes. The body is delimited by the connection's end.
  template <class Stream>
  asio::awaitable<void> streamStats(Stream& stream) {
    std::string head =
        "HTTP/1.1 200 OK\r\nServer: archway/0.1.0\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n";
    beast::get_lowest_layer(stream).expires_never();
    auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), kTuple);
    if (hec) co_return;
    asio::steady_timer timer(ctx);
    while (!closed) {
      std::string event = "data: " + api->statsJson() + "\n\n";
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(event), kTuple);
      if (wec) co_return;
      timer.expires_after(api->streamInterval());
      auto [tec] = co_await timer.async_wait(kTuple);
      if (tec) co_return;
    }
  }

  // Requests on one connection (plain or TLS) until it closes or stops keeping alive.
  template <class Stream>
  asio::awaitable<void> session(Stream& stream, beast::flat_buffer& buffer) {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(16 * 1024 * 1024);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (ec) break;
      auto& req = parser.get();
      const auto start = std::chrono::steady_clock::now();
      auto token = req["Kong-Admin-Token"];
      auto contentType = req[http::field::content_type];
      std::optional<core::BackgroundCpu::Scope> yielding;
      if (background) yielding.emplace(background->enter());
      AdminResponse r = api->handle(
          AdminRequest{std::string_view(req.method_string().data(), req.method_string().size()),
                       std::string_view(req.target().data(), req.target().size()),
                       std::string_view(token.data(), token.size()), req.body(),
                       std::string_view(contentType.data(), contentType.size())});
      yielding.reset();
      if (r.eventStream) {
        co_await streamStats(stream);
        break;
      }
      http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
      res.set(http::field::server, "archway/0.1.0");
      res.set(http::field::access_control_allow_origin, "*");
      if (!r.body.empty()) res.set(http::field::content_type, r.contentType);
      res.set("X-Kong-Admin-Latency",
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count()));
      res.body() = req.method() == http::verb::head ? std::string() : std::move(r.body);
      res.keep_alive(req.keep_alive() && !closed);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
      if (wec || !res.keep_alive()) break;
    }
  }

  std::list<beast::tcp_stream*>::iterator track(beast::tcp_stream& s) {
    connections.push_back(&s);
    return std::prev(connections.end());
  }
  static void shutdown(beast::tcp_stream& s) {
    boost::system::error_code ec;
    s.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::awaitable<void> servePlain(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    auto it = track(stream);
    beast::flat_buffer buffer;
    co_await session(stream, buffer);
    shutdown(stream);
    connections.erase(it);
  }

  // TLS 1.2+ (admin_tls.cpp). The first bytes tell a TLS ClientHello from plain HTTP, which
  // gets nginx's answer instead of a handshake failure the user cannot read.
  asio::awaitable<void> serveTls(tcp::socket socket, std::shared_ptr<ssl::context> tls) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    std::optional<ssl::stream<beast::tcp_stream>> stream;
    {
      beast::tcp_stream plain(std::move(socket));
      auto it = track(plain);
      plain.expires_after(std::chrono::seconds(10));
      auto [dec, isTls] = co_await beast::async_detect_ssl(plain, buffer, kTuple);
      connections.erase(it);
      if (dec || closed) {
        shutdown(plain);
        co_return;
      }
      if (!isTls) {
        static const std::string kBody =
            "{\"message\":\"The plain HTTP request was sent to HTTPS port\"}";
        std::string res =
            "HTTP/1.1 400 Bad Request\r\nServer: archway/0.1.0\r\n"
            "Content-Type: application/json; charset=utf-8\r\nContent-Length: " +
            std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + kBody;
        it = track(plain);
        co_await asio::async_write(plain, asio::buffer(res), kTuple);
        connections.erase(it);
        shutdown(plain);
        co_return;
      }
      stream.emplace(std::move(plain), *tls);
    }
    auto& lowest = beast::get_lowest_layer(*stream);
    auto it = track(lowest);
    lowest.expires_after(std::chrono::seconds(10));
    auto [hec, used] =
        co_await stream->async_handshake(ssl::stream_base::server, buffer.data(), kTuple);
    if (!hec && !closed) {
      buffer.consume(used);
      co_await session(*stream, buffer);
      if (!closed) {
        lowest.expires_after(std::chrono::seconds(2));
        co_await stream->async_shutdown(kTuple);
      }
    }
    shutdown(lowest);
    connections.erase(it);
  }
};

AdminServer::AdminServer(asio::io_context& ctx, std::shared_ptr<const AdminApi> api,
                         core::BackgroundCpu* background)
    : impl_(std::make_shared<Impl>(ctx, std::move(api), background)) {}

AdminServer::~AdminServer() = default;

void AdminServer::start(tcp::acceptor acceptor, std::shared_ptr<ssl::context> tls) {
  auto& a = impl_->acceptors.emplace_back(std::move(acceptor));
  asio::co_spawn(impl_->ctx, impl_->acceptLoop(a, std::move(tls)), asio::detached);
}

void AdminServer::close() {
  impl_->closed = true;
  boost::system::error_code ec;
  for (auto& a : impl_->acceptors) a.close(ec);
  for (auto* c : impl_->connections) c->socket().cancel(ec);
}

}  // namespace archway::admin
