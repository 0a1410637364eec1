#include "plugins/log/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace archway::plugins::log {
namespace {

using Clock = std::chrono::steady_clock;

SSL_CTX* clientContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c) SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  return ctx;
}

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string sslError(const char* what) {
  unsigned long e = ERR_get_error();
  std::string out = what;
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

bool isAddress(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

Connection::~Connection() {
  close();
}

void Connection::close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool Connection::waitFor(short events, Clock::time_point deadline, std::string& error) {
  for (;;) {
    pollfd p{fd_, events, 0};
    int r = ::poll(&p, 1, remainingMs(deadline));
    if (r > 0) return true;
    if (r == 0) {
      error = "timeout";
      return false;
    }
    if (errno != EINTR) {
      error = std::strerror(errno);
      return false;
    }
  }
}

bool Connection::connect(const std::string& host, std::uint16_t port,
                         std::chrono::milliseconds timeout, bool tls, const std::string& sni,
                         std::string& error) {
  close();
  auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    error = std::string("could not resolve ") + host + ": " + gai_strerror(rc);
    return false;
  }
  error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    fd_ = fd;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (waitFor(POLLOUT, deadline, error)) {
        int soError = 0;
        socklen_t len = sizeof soError;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
        if (soError == 0) {
          rc = 0;
        } else {
          error = std::strerror(soError);
        }
      }
    } else if (rc != 0) {
      error = std::strerror(errno);
    }
    if (rc == 0) break;
    close();
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return false;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (tls) {
    std::string name = !sni.empty() ? sni : (isAddress(host) ? std::string() : host);
    if (!handshake(name, deadline, error)) {
      close();
      return false;
    }
  }
  touch();
  return true;
}

bool Connection::handshake(const std::string& serverName, Clock::time_point deadline,
                           std::string& error) {
  SSL_CTX* ctx = clientContext();
  if (!ctx) {
    error = sslError("TLS context");
    return false;
  }
  ssl_ = SSL_new(ctx);
  if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) {
    error = sslError("TLS session");
    return false;
  }
  if (!serverName.empty()) SSL_set_tlsext_host_name(ssl_, serverName.c_str());
  for (;;) {
    int r = SSL_connect(ssl_);
    if (r == 1) return true;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) {
      if (!waitFor(POLLIN, deadline, error)) return false;
    } else if (e == SSL_ERROR_WANT_WRITE) {
      if (!waitFor(POLLOUT, deadline, error)) return false;
    } else {
      error = sslError("TLS handshake failed");
      return false;
    }
  }
}

bool Connection::sendAll(std::string_view data, std::chrono::milliseconds timeout,
                         std::string& error) {
  if (fd_ < 0) {
    error = "not connected";
    return false;
  }
  auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    if (ssl_) {
      int r = SSL_write(ssl_, data.data(),
                        static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30)));
      if (r > 0) {
        data.remove_prefix(static_cast<std::size_t>(r));
        continue;
      }
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_WRITE) {
        if (!waitFor(POLLOUT, deadline, error)) return false;
      } else if (e == SSL_ERROR_WANT_READ) {
        if (!waitFor(POLLIN, deadline, error)) return false;
      } else {
        error = sslError("TLS write failed");
        return false;
      }
    } else {
      ssize_t r = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (r > 0) {
        data.remove_prefix(static_cast<std::size_t>(r));
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!waitFor(POLLOUT, deadline, error)) return false;
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else {
        error = std::strerror(errno);
        return false;
      }
    }
  }
  return true;
}

long Connection::receive(std::string& out, std::chrono::milliseconds timeout, std::string& error) {
  if (fd_ < 0) {
    error = "not connected";
    return -1;
  }
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  for (;;) {
    if (ssl_) {
      int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) {
        out.append(buf, static_cast<std::size_t>(r));
        return r;
      }
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      if (e == SSL_ERROR_WANT_READ) {
        if (!waitFor(POLLIN, deadline, error)) return -1;
      } else if (e == SSL_ERROR_WANT_WRITE) {
        if (!waitFor(POLLOUT, deadline, error)) return -1;
      } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        return 0;  // the peer closed without close_notify
      } else {
        error = sslError("TLS read failed");
        return -1;
      }
    } else {
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r >= 0) {
        out.append(buf, static_cast<std::size_t>(r));
        return static_cast<long>(r);
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!waitFor(POLLIN, deadline, error)) return -1;
      } else if (errno != EINTR) {
        error = std::strerror(errno);
        return -1;
      }
    }
  }
}

bool Connection::reusable(std::chrono::milliseconds keepalive) const {
  if (fd_ < 0) return false;
  if (keepalive.count() > 0 && Clock::now() - lastUsed_ > keepalive) return false;
  // Readable while idle: the peer closed (or sent something we did not ask for).
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace archway::plugins::log
