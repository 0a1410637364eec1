#pragma once
// A blocking client connection with per-operation timeouts for the log senders (tcp-log,
// http-log): plain TCP or TLS (OpenSSL, no certificate verification, as Kong's log plugins
// do: sslhandshake(..., verify=false) and ssl_verify=false). Used on a queue's sender thread
// only, never on a worker. Not thread-safe.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;

namespace archway::plugins::log {

class Connection {
 public:
  Connection() = default;
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves `host`, connects within `timeout` and, with `tls`, handshakes (sending `sni`, or
  // the host name when `sni` is empty and the host is not an address).
  bool connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
               bool tls, const std::string& sni, std::string& error);
  bool sendAll(std::string_view data, std::chrono::milliseconds timeout, std::string& error);
  // Appends what arrives (at most 64 KiB). Returns the byte count, 0 at end of stream, -1 on
  // error or timeout (with `error` set).
  long receive(std::string& out, std::chrono::milliseconds timeout, std::string& error);
  void close();

  bool open() const { return fd_ >= 0; }
  // An idle connection may be reused: still open, younger than `keepalive` idle time (<= 0:
  // no limit, as nginx's setkeepalive(0)) and the peer has neither closed it nor sent anything.
  bool reusable(std::chrono::milliseconds keepalive) const;
  // Stamps the end of a successful exchange (the start of the idle time).
  void touch() { lastUsed_ = std::chrono::steady_clock::now(); }

 private:
  bool waitFor(short events, std::chrono::steady_clock::time_point deadline, std::string& error);
  bool handshake(const std::string& serverName, std::chrono::steady_clock::time_point deadline,
                 std::string& error);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::chrono::steady_clock::time_point lastUsed_{};
};

}  // namespace archway::plugins::log
