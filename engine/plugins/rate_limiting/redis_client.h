#pragma once
// A small Redis client for the data plane: RESP2 over Boost.Asio TCP (or TLS) on the worker's own
// io_context, commands pipelined in one write, every step under a deadline, keep-alive
// connections pooled per worker (Kong: set_keepalive(10000, 100)). Nothing here blocks the
// worker or takes a lock; a Pool belongs to one worker thread (WorkerEnv).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace boost::asio::ssl {
class context;
}

namespace archway::plugins::redis {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;                     // AUTH username password (Redis 6 ACLs) when set
  std::string password;                     // AUTH on every new connection when set
  int database = 0;                         // SELECT on every new connection when not 0
  std::chrono::milliseconds timeout{2000};  // connect (with AUTH/SELECT), and each round trip
  // TLS (Kong's redis.ssl / ssl_verify / server_name). Verification uses the system trust
  // store (OpenSSL's default paths; SSL_CERT_FILE / SSL_CERT_DIR override them) and checks the
  // certificate names server_name, or host. SNI is server_name, or host when it is a name.
  bool ssl = false;
  bool sslVerify = false;
  std::string serverName;
  std::size_t maxIdle = 100;
  std::chrono::milliseconds idleTimeout{10000};
};

struct Reply {
  enum class Type : std::uint8_t { status, error, integer, bulk, nil, array };
  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string text;  // status, error and bulk
  std::vector<Reply> elements;
};

// Appends one command in RESP ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").
void appendCommand(std::string& out, std::initializer_list<std::string_view> args);

// Parses one reply at the start of `data`: the bytes it took, 0 when more bytes are needed,
// -1 when the bytes are not RESP.
std::ptrdiff_t parseReply(std::string_view data, Reply& out);

class Pool {
 public:
  Pool(boost::asio::io_context& io, Options options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Sends `request` (one or more commands from appendCommand) and reads `replies` replies.
  // An error reply is a reply; a failure (connect, AUTH, SELECT, I/O, timeout, bad bytes) is
  // an error whose message says which. A pooled connection the server closed meanwhile is
  // retried once on a fresh one. `request` must stay valid until the awaitable completes.
  boost::asio::awaitable<core::Result<std::vector<Reply>>> exec(std::string_view request,
                                                                std::size_t replies);

  std::size_t idle() const { return idle_.size(); }
  const Options& options() const { return options_; }
  // Failures are logged at most once per interval per pool; true when this one may be.
  bool shouldLog(std::chrono::steady_clock::time_point now);

 private:
  struct Connection;
  boost::asio::awaitable<core::Result<std::shared_ptr<Connection>>> connect();
  boost::asio::awaitable<core::Result<std::vector<Reply>>> roundTrip(Connection& c,
                                                                     std::string_view request,
                                                                     std::size_t replies);
  std::shared_ptr<Connection> takeIdle();
  void giveBack(std::shared_ptr<Connection> c);

  boost::asio::io_context& io_;
  Options options_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // when options_.ssl
  std::vector<std::shared_ptr<Connection>> idle_;
  std::chrono::steady_clock::time_point lastLog_{};
};

}  // namespace archway::plugins::redis
