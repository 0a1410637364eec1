#pragma once
// Test support: a redis-server of the test's own on a free loopback port (no persistence, in
// a temporary directory), killed when the object goes away, and a blocking RESP helper to
// look at what the plugin wrote.
#include <QtTest>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <string>

#include "plugins/rate_limiting/redis_client.h"

namespace plugintest {

namespace redis = archway::plugins::redis;
namespace asio = boost::asio;

inline unsigned short freePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// A redis-server of our own; killed when the test is done with it.
class RedisServer {
 public:
  using Reply = redis::Reply;
  bool start(const QStringList& extra = {}) {
    if (!dir_.isValid()) return false;
    if (!port_) port_ = freePort();
    QStringList args{"--port",       QString::number(port_),
                     "--bind",       "127.0.0.1",
                     "--save",       "",
                     "--appendonly", "no",
                     "--dir",        dir_.path(),
                     "--daemonize",  "no"};
    args += extra;
    proc_.setProgram(QStringLiteral("redis-server"));
    proc_.setArguments(args);
    proc_.setProcessChannelMode(QProcess::MergedChannels);
    proc_.start();
    if (!proc_.waitForStarted(5000)) return false;
    // Ready when it answers PING.
    for (int i = 0; i < 200; ++i) {
      std::string reply;
      if (command("*1\r\n$4\r\nPING\r\n", reply, extraAuth_) &&
          reply.find("PONG") != std::string::npos)
        return true;
      QThread::msleep(25);
    }
    return false;
  }
  void kill() {
    if (proc_.state() != QProcess::NotRunning) {
      proc_.kill();
      proc_.waitForFinished(5000);
    }
  }
  ~RedisServer() { kill(); }
  unsigned short port() const { return port_; }
  void setAuth(std::string password) { extraAuth_ = std::move(password); }

  // One RESP request on a fresh blocking connection; the raw reply.
  bool command(const std::string& resp, std::string& reply, const std::string& password = {},
               std::size_t replies = 1) {
    try {
      asio::io_context io;
      asio::ip::tcp::socket s(io);
      s.connect({asio::ip::make_address("127.0.0.1"), port_});
      std::string req;
      std::size_t expect = replies;
      if (!password.empty()) {
        redis::appendCommand(req, {"AUTH", password});
        ++expect;
      }
      req += resp;
      asio::write(s, asio::buffer(req));
      std::string in;
      std::size_t pos = 0, got = 0;
      while (got < expect) {
        redis::Reply r;
        auto n = redis::parseReply(std::string_view(in).substr(pos), r);
        if (n < 0) return false;
        if (n > 0) {
          pos += static_cast<std::size_t>(n);
          ++got;
          if (got == expect) reply = in.substr(pos - static_cast<std::size_t>(n));
          continue;
        }
        char buf[4096];
        std::size_t k = s.read_some(asio::buffer(buf));
        in.append(buf, k);
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  redis::Reply run(std::initializer_list<std::string_view> args) {
    std::string req, raw;
    redis::appendCommand(req, args);
    redis::Reply r;
    if (command(req, raw, extraAuth_)) redis::parseReply(raw, r);
    return r;
  }
  // The same in database `db` (SELECT first, on the same connection).
  redis::Reply runIn(int db, std::initializer_list<std::string_view> args) {
    std::string req, raw;
    redis::appendCommand(req, {"SELECT", std::to_string(db)});
    redis::appendCommand(req, args);
    redis::Reply r;
    if (command(req, raw, extraAuth_, 2)) redis::parseReply(raw, r);
    return r;
  }

 private:
  QTemporaryDir dir_;
  QProcess proc_;
  unsigned short port_ = 0;
  std::string extraAuth_;
};

}  // namespace plugintest
