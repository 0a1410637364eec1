#include "plugins/rate_limiting/redis_client.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <charconv>

namespace archway::plugins::redis {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool parseInt(std::string_view s, std::int64_t& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::ptrdiff_t parseAt(std::string_view data, Reply& out, int depth) {
  if (data.empty()) return 0;
  if (depth > 8) return -1;
  const auto eol = data.find("\r\n");
  if (eol == std::string_view::npos) return data.size() > 64 * 1024 ? -1 : 0;
  const std::string_view line = data.substr(1, eol - 1);
  const auto head = static_cast<std::ptrdiff_t>(eol + 2);
  switch (data[0]) {
    case '+':
      out.type = Reply::Type::status;
      out.text.assign(line);
      return head;
    case '-':
      out.type = Reply::Type::error;
      out.text.assign(line);
      return head;
    case ':':
      out.type = Reply::Type::integer;
      return parseInt(line, out.integer) ? head : -1;
    case '$': {
      std::int64_t len = 0;
      if (!parseInt(line, len) || len < -1 || len > 512 * 1024 * 1024) return -1;
      if (len == -1) {
        out.type = Reply::Type::nil;
        return head;
      }
      const auto need = static_cast<std::size_t>(head) + static_cast<std::size_t>(len) + 2;
      if (data.size() < need) return 0;
      if (data.substr(need - 2, 2) != "\r\n") return -1;
      out.type = Reply::Type::bulk;
      out.text.assign(data.substr(static_cast<std::size_t>(head), static_cast<std::size_t>(len)));
      return static_cast<std::ptrdiff_t>(need);
    }
    case '*': {
      std::int64_t count = 0;
      if (!parseInt(line, count) || count < -1 || count > 1024 * 1024) return -1;
      if (count == -1) {
        out.type = Reply::Type::nil;
        return head;
      }
      out.type = Reply::Type::array;
      out.elements.clear();
      std::ptrdiff_t used = head;
      for (std::int64_t i = 0; i < count; ++i) {
        Reply element;
        std::ptrdiff_t n = parseAt(data.substr(static_cast<std::size_t>(used)), element, depth + 1);
        if (n <= 0) return n;
        used += n;
        out.elements.push_back(std::move(element));
      }
      return used;
    }
    default:
      return -1;
  }
}

}  // namespace

void appendCommand(std::string& out, std::initializer_list<std::string_view> args) {
  char num[24];
  auto appendNum = [&](char prefix, std::size_t n) {
    out += prefix;
    auto r = std::to_chars(num, num + sizeof num, n);
    out.append(num, r.ptr);
    out += "\r\n";
  };
  appendNum('*', args.size());
  for (std::string_view a : args) {
    appendNum('$', a.size());
    out.append(a);
    out += "\r\n";
  }
}

std::ptrdiff_t parseReply(std::string_view data, Reply& out) {
  return parseAt(data, out, 0);
}

// One connection. The deadline timer cancels the socket (and a pending resolve) when it
// fires; `generation` makes a late firing from an earlier step harmless.
struct Pool::Connection : std::enable_shared_from_this<Pool::Connection> {
  explicit Connection(asio::io_context& io) : plain(io), timer(io), resolver(io) {}

  // The TCP socket, under TLS or not.
  tcp::socket& socket() { return tls ? tls->next_layer() : plain; }

  void arm(std::chrono::milliseconds timeout) {
    ++generation;
    timedOut = false;
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this(), g = generation](boost::system::error_code ec) {
      if (ec || self->generation != g) return;
      self->timedOut = true;
      boost::system::error_code ignored;
      self->socket().cancel(ignored);
      self->resolver.cancel();
    });
  }
  void disarm() {
    ++generation;
    timer.cancel();
  }
  void close() {
    boost::system::error_code ignored;
    socket().close(ignored);
  }
  std::string failure(const boost::system::error_code& ec) const {
    return timedOut ? std::string("timeout") : ec.message();
  }

  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write(std::string_view b) {
    if (tls) co_return co_await asio::async_write(*tls, asio::buffer(b), kAwait);
    co_return co_await asio::async_write(plain, asio::buffer(b), kAwait);
  }
  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> readSome(char* p,
                                                                               std::size_t n) {
    if (tls) co_return co_await tls->async_read_some(asio::buffer(p, n), kAwait);
    co_return co_await plain.async_read_some(asio::buffer(p, n), kAwait);
  }

  tcp::socket plain;  // moved into `tls` once TLS starts
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
  asio::steady_timer timer;
  tcp::resolver resolver;
  std::string in;
  std::size_t received = 0;  // bytes of the current round trip
  std::uint64_t generation = 0;
  bool timedOut = false;
  Clock::time_point lastUsed{};
};

Pool::Pool(asio::io_context& io, Options options) : io_(io), options_(std::move(options)) {
  if (options_.ssl) {
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    if (options_.sslVerify) {
      boost::system::error_code ec;
      tls_->set_default_verify_paths(ec);
      tls_->set_verify_mode(asio::ssl::verify_peer);
    } else {
      tls_->set_verify_mode(asio::ssl::verify_none);
    }
  }
}

Pool::~Pool() {
  for (auto& c : idle_) c->close();
}

bool Pool::shouldLog(Clock::time_point now) {
  if (lastLog_ != Clock::time_point{} && now - lastLog_ < std::chrono::seconds(10)) return false;
  lastLog_ = now;
  return true;
}

std::shared_ptr<Pool::Connection> Pool::takeIdle() {
  const auto now = Clock::now();
  while (!idle_.empty()) {
    std::shared_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    if (now - c->lastUsed > options_.idleTimeout) continue;
    // A server that closed the connection while it sat idle left an EOF (or an error) to
    // read; anything readable at all means the connection is not in a state to reuse. (Under
    // TLS readable bytes may be a protocol record; a dead one is found by the retry in exec.)
    if (c->tls) return c;
    char byte = 0;
    const ssize_t n = ::recv(c->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c;
  }
  return nullptr;
}

void Pool::giveBack(std::shared_ptr<Connection> c) {
  if (idle_.size() >= options_.maxIdle) return;
  c->lastUsed = Clock::now();
  idle_.push_back(std::move(c));
}

asio::awaitable<core::Result<std::shared_ptr<Pool::Connection>>> Pool::connect() {
  auto c = std::make_shared<Connection>(io_);
  c->arm(options_.timeout);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  const bool literal = !ec;
  if (literal) {
    auto [err] = co_await c->plain.async_connect(tcp::endpoint(address, options_.port), kAwait);
    ec = err;
  } else {
    auto [rerr, endpoints] =
        co_await c->resolver.async_resolve(options_.host, std::to_string(options_.port), kAwait);
    ec = rerr;
    if (!ec) {
      auto [cerr, ep] = co_await asio::async_connect(c->plain, endpoints, kAwait);
      ec = cerr;
    }
  }
  if (ec) {
    c->disarm();
    co_return core::Error{"", "failed to connect to Redis: " + c->failure(ec)};
  }
  c->plain.set_option(tcp::no_delay(true), ec);
  if (tls_) {
    c->tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(c->plain), *tls_);
    const std::string& name = options_.serverName.empty() ? options_.host : options_.serverName;
    if (!options_.serverName.empty() || !literal)
      SSL_set_tlsext_host_name(c->tls->native_handle(), name.c_str());
    if (options_.sslVerify) c->tls->set_verify_callback(asio::ssl::host_name_verification(name));
    auto [herr] = co_await c->tls->async_handshake(asio::ssl::stream_base::client, kAwait);
    if (herr) {
      c->disarm();
      c->close();
      co_return core::Error{"", "failed to do SSL handshake with Redis: " + c->failure(herr)};
    }
  }
  c->disarm();

  // AUTH and SELECT once per connection, as Kong does on a connection's first use.
  std::string setup;
  std::size_t replies = 0;
  if (!options_.password.empty()) {
    if (!options_.username.empty())
      appendCommand(setup, {"AUTH", options_.username, options_.password});
    else
      appendCommand(setup, {"AUTH", options_.password});
    ++replies;
  }
  if (options_.database != 0) {
    appendCommand(setup, {"SELECT", std::to_string(options_.database)});
    ++replies;
  }
  if (replies > 0) {
    auto r = co_await roundTrip(*c, setup, replies);
    if (!r) co_return r.errors();
    std::size_t i = 0;
    if (!options_.password.empty()) {
      const Reply& auth = (*r)[i++];
      if (auth.type == Reply::Type::error)
        co_return core::Error{"", "failed to auth Redis: " + auth.text};
    }
    if (options_.database != 0) {
      const Reply& select = (*r)[i];
      if (select.type == Reply::Type::error)
        co_return core::Error{"", "failed to change Redis database: " + select.text};
    }
  }
  co_return c;
}

asio::awaitable<core::Result<std::vector<Reply>>> Pool::roundTrip(Connection& c,
                                                                  std::string_view request,
                                                                  std::size_t replies) {
  auto fail = [&c](std::string message) {
    c.disarm();
    c.close();
    return core::Result<std::vector<Reply>>(core::Error{"", std::move(message)});
  };
  c.arm(options_.timeout);
  c.received = 0;
  c.in.clear();
  auto [werr, written] = co_await c.write(request);
  (void)written;
  if (werr) co_return fail("failed to send to Redis: " + c.failure(werr));

  std::vector<Reply> out;
  out.reserve(replies);
  std::size_t pos = 0;
  while (out.size() < replies) {
    while (out.size() < replies) {
      Reply r;
      const std::ptrdiff_t used = parseReply(std::string_view(c.in).substr(pos), r);
      if (used < 0) co_return fail("bad reply from Redis");
      if (used == 0) break;
      pos += static_cast<std::size_t>(used);
      out.push_back(std::move(r));
    }
    if (out.size() == replies) break;
    const std::size_t old = c.in.size();
    c.in.resize(old + 4096);
    auto [rerr, got] = co_await c.readSome(c.in.data() + old, 4096);
    c.in.resize(old + got);
    c.received += got;
    if (rerr) co_return fail("failed to read from Redis: " + c.failure(rerr));
  }
  c.disarm();
  // Bytes nobody asked for: the connection is out of step; do not pool it.
  if (pos != c.in.size()) c.close();
  co_return out;
}

asio::awaitable<core::Result<std::vector<Reply>>> Pool::exec(std::string_view request,
                                                             std::size_t replies) {
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<Connection> c = takeIdle();
    const bool reused = c != nullptr;
    if (!c) {
      auto fresh = co_await connect();
      if (!fresh) co_return fresh.errors();
      c = std::move(*fresh);
    }
    auto r = co_await roundTrip(*c, request, replies);
    if (r) {
      if (c->socket().is_open()) giveBack(std::move(c));
      co_return r;
    }
    // A kept-alive connection that failed before answering anything (the server restarted
    // or dropped it): the commands were not run; try once on a new connection.
    if (reused && attempt == 0 && c->received == 0 && !c->timedOut) continue;
    co_return r;
  }
}

}  // namespace archway::plugins::redis
