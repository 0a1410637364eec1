#include "demo/demo_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "net/endpoint.h"

namespace archway::demo {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr double kMaxDelayS = 10;
constexpr std::uint64_t kMaxBytes = 10 * 1024 * 1024;
constexpr std::uint64_t kMaxRequestBody = 10 * 1024 * 1024;
// Idle keep-alive connections and slow clients are dropped after this; the demo is local.
constexpr auto kReadTimeout = std::chrono::seconds(60);
// stop() lets cancelled operations finish for this long before it stops the io_context.
constexpr auto kStopGrace = std::chrono::seconds(2);

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; malformed escapes are kept as they are.
std::string percentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && hexValue(in[i + 1]) >= 0 &&
               hexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// httpbin shape: a key seen once maps to a string, a repeated key to an array of strings.
json::object parseQuery(std::string_view query) {
  json::object args;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string key = percentDecode(part.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? std::string{} : percentDecode(part.substr(eq + 1));
    auto it = args.find(key);
    if (it == args.end()) {
      args.emplace(key, value);
    } else if (it->value().is_array()) {
      it->value().as_array().emplace_back(value);
    } else {
      json::array both;
      both.emplace_back(it->value());
      both.emplace_back(value);
      it->value() = std::move(both);
    }
  }
  return args;
}

template <class T>
std::optional<T> parseNumber(std::string_view text) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

struct Target {
  std::string_view path;
  std::string_view query;
};

Target splitTarget(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// The text after `prefix` when `path` is `prefix` followed by one non-empty segment.
std::optional<std::string_view> segmentAfter(std::string_view path, std::string_view prefix) {
  if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
  auto rest = path.substr(prefix.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  return rest;
}

json::object echo(const Request& req, const std::string& origin) {
  auto [path, query] = splitTarget(req.target());
  json::object headers;
  for (const auto& f : req) {
    std::string name(f.name_string());
    auto it = headers.find(name);
    if (it == headers.end()) {
      headers.emplace(name, std::string(f.value()));
    } else {
      // Repeated fields combine as RFC 9110 allows for list-valued fields.
      std::string joined(it->value().as_string());
      joined += ", ";
      joined += f.value();
      it->value() = joined;
    }
  }
  std::string host(req[http::field::host]);
  json::object out;
  out["method"] = std::string(req.method_string());
  out["url"] =
      "http://" + (host.empty() ? std::string("localhost") : host) + std::string(req.target());
  out["path"] = std::string(path);
  out["args"] = parseQuery(query);
  out["headers"] = std::move(headers);
  out["data"] = req.body();
  out["origin"] = origin;
  return out;
}

void setJson(Response& res, const json::value& body) {
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  res.body() += '\n';
}

void setError(Response& res, http::status status, std::string message) {
  res.result(status);
  json::object o;
  o["error"] = std::move(message);
  setJson(res, o);
}

// Deterministic per seed so tests and demos can compare payloads; not for security.
std::string pseudoRandomBytes(std::uint64_t n, std::uint64_t seed) {
  std::string out(n, '\0');
  std::uint64_t x = seed;
  std::size_t i = 0;
  while (i < n) {
    // splitmix64
    x += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int b = 0; b < 8 && i < n; ++b, ++i) out[i] = static_cast<char>((z >> (8 * b)) & 0xFF);
  }
  return out;
}

}  // namespace

struct DemoServer::Impl {
  class Session;

  asio::io_context ctx;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::optional<tcp::acceptor> acceptor;
  // Accepting, re-arming and closing the acceptor are serialized when several threads run ctx.
  asio::strand<asio::io_context::executor_type> acceptStrand{asio::make_strand(ctx)};
  asio::steady_timer acceptRetry{acceptStrand};
  std::vector<std::thread> threads;
  std::uint16_t port = 0;

  // Registry of live sessions so stop() can close idle keep-alive connections.
  std::mutex mutex;
  std::unordered_set<std::shared_ptr<Session>> sessions;  // guarded by mutex
  bool stopping = false;                                  // guarded by mutex
  int running = 0;                                        // guarded by mutex
  std::condition_variable exited;

  bool add(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    sessions.insert(s);
    return true;
  }
  void remove(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mutex);
    sessions.erase(s);
  }

  void accept();
  void stop();
};

// One connection. Lives on its own strand; every pending operation holds a shared_ptr to it.
class DemoServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), timer_(stream_.get_executor()) {
    boost::system::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    origin_ = ec ? std::string() : remote.address().to_string();
  }

  void run() {
    if (!server_.add(shared_from_this())) return;
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  // Any thread: closes the socket and cancels a pending delay on the session's strand.
  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closed_ = true;
      self->timer_.cancel();
      boost::system::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void read() {
    if (closed_) return finish();
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    stream_.expires_after(kReadTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec || closed_) {
      if (ec == http::error::body_limit && !closed_) {
        Response res{http::status::payload_too_large, 11};
        setError(res, http::status::payload_too_large, "request body too large");
        res.keep_alive(false);
        return send(std::move(res), false);
      }
      return finish();
    }
    request_ = parser_->release();
    handle();
  }

  void handle() {
    const Request& req = request_;
    Response res{http::status::ok, req.version()};
    auto [path, query] = splitTarget(req.target());
    if (path == "/anything" || path.substr(0, 10) == "/anything/") {
      setJson(res, echo(req, origin_));
    } else if (auto code = segmentAfter(path, "/status/")) {
      auto n = parseNumber<int>(*code);
      // 1xx are not final responses; a client would wait for another one.
      if (!n || *n < 200 || *n > 599) {
        setError(res, http::status::bad_request,
                 "invalid status code '" + std::string(*code) + "'");
      } else {
        res.result(static_cast<unsigned>(*n));
      }
    } else if (auto secs = segmentAfter(path, "/delay/")) {
      auto s = parseNumber<double>(*secs);
      if (!s || !std::isfinite(*s) || *s < 0) {
        setError(res, http::status::bad_request, "invalid delay '" + std::string(*secs) + "'");
      } else {
        return delay(std::min(*s, kMaxDelayS));
      }
    } else if (auto count = segmentAfter(path, "/bytes/")) {
      auto n = parseNumber<std::uint64_t>(*count);
      if (!n) {
        setError(res, http::status::bad_request,
                 "invalid byte count '" + std::string(*count) + "'");
      } else {
        std::uint64_t seed = 42;
        auto args = parseQuery(query);
        if (auto it = args.find("seed"); it != args.end() && it->value().is_string()) {
          seed = parseNumber<std::uint64_t>(it->value().as_string()).value_or(seed);
        }
        res.set(http::field::content_type, "application/octet-stream");
        res.body() = pseudoRandomBytes(std::min(*n, kMaxBytes), seed);
      }
    } else if (path == "/") {
      json::object index;
      index["name"] = "archway demo upstream";
      index["endpoints"] =
          json::array{"/anything[/...]", "/status/{code}", "/delay/{seconds}", "/bytes/{n}"};
      setJson(res, index);
    } else {
      setError(res, http::status::not_found, "no route for '" + std::string(path) + "'");
    }
    send(std::move(res), req.keep_alive());
  }

  void delay(double seconds) {
    timer_.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(
        std::chrono::duration<double>(seconds)));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return self->finish();
      Response res{http::status::ok, self->request_.version()};
      setJson(res, echo(self->request_, self->origin_));
      self->send(std::move(res), self->request_.keep_alive());
    });
  }

  void send(Response res, bool keepAlive) {
    res.set(http::field::server, "archway-demo");
    res.keep_alive(keepAlive);
    auto status = res.result();
    if (status == http::status::no_content || status == http::status::not_modified) {
      // These never carry a body, so no Content-Length either (RFC 9110 8.6).
      res.body().clear();
    } else {
      res.prepare_payload();
    }
    if (request_.method() == http::verb::head) res.body().clear();  // keeps Content-Length
    response_ = std::move(res);
    serializer_.emplace(response_);
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, *serializer_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->serializer_.reset();
                        if (ec || !self->response_.keep_alive()) {
                          if (!ec) {
                            boost::system::error_code ignored;
                            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          }
                          return self->finish();
                        }
                        self->read();
                      });
  }

  void finish() {
    boost::system::error_code ec;
    stream_.socket().close(ec);
    server_.remove(shared_from_this());
  }

  Impl& server_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  Response response_;
  std::optional<http::serializer<false, http::string_body>> serializer_;
  std::string origin_;
  bool closed_ = false;
};

void DemoServer::Impl::accept() {
  acceptor->async_accept(
      asio::make_strand(ctx),
      asio::bind_executor(acceptStrand, [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        if (ec) {
          // EMFILE and friends are transient; retry later instead of spinning on them.
          acceptRetry.expires_after(std::chrono::milliseconds(50));
          acceptRetry.async_wait([this](beast::error_code wec) {
            if (!wec && acceptor->is_open()) accept();
          });
          return;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(*this, std::move(socket))->run();
        accept();
      }));
}

void DemoServer::Impl::stop() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(mutex);
    if (stopping) return;
    stopping = true;
    open.assign(sessions.begin(), sessions.end());
  }
  if (acceptor) {
    asio::post(acceptStrand, [this] {
      boost::system::error_code ec;
      acceptor->close(ec);
      acceptRetry.cancel();
    });
  }
  for (auto& s : open) s->close();
  open.clear();
  guard.reset();
  {
    // Cancelled operations complete quickly; a handler stuck elsewhere must not hang stop().
    std::unique_lock lock(mutex);
    if (!exited.wait_for(lock, kStopGrace, [this] { return running == 0; })) ctx.stop();
  }
  for (auto& t : threads) t.join();
  threads.clear();
}

DemoServer::DemoServer() = default;

DemoServer::~DemoServer() {
  stop();
}

core::Result<std::uint16_t> DemoServer::start(const std::string& address, std::uint16_t port,
                                              int threads) {
  if (impl_) return core::Error{"", "demo server already started"};
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address == "localhost" ? "127.0.0.1" : address, ec);
  if (ec) return core::Error{"", "invalid address '" + address + "'"};
  auto impl = std::make_unique<Impl>();
  auto acceptor = net::listen(impl->ctx, tcp::endpoint(addr, port), false);
  if (!acceptor) return acceptor.errors();
  impl->acceptor.emplace(std::move(*acceptor));
  impl->port = impl->acceptor->local_endpoint(ec).port();
  impl->guard.emplace(impl->ctx.get_executor());
  impl->accept();
  int n = std::max(1, threads);
  impl->running = n;
  for (int i = 0; i < n; ++i) {
    impl->threads.emplace_back([p = impl.get()] {
      p->ctx.run();
      std::lock_guard lock(p->mutex);
      if (--p->running == 0) p->exited.notify_all();
    });
  }
  impl_ = std::move(impl);
  return impl_->port;
}

void DemoServer::stop() {
  if (!impl_) return;
  impl_->stop();
  // Destroying the io_context destroys any handler left by ctx.stop(), releasing its session.
  impl_.reset();
}

std::uint16_t DemoServer::port() const {
  return impl_ ? impl_->port : 0;
}

}  // namespace archway::demo
