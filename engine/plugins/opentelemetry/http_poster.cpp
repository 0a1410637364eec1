#include "plugins/opentelemetry/http_poster.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>

#include "http/chunked_scanner.h"
#include "http/head_parser.h"

namespace archway::plugins::otel {
namespace {
constexpr std::size_t kMaxKeptBody = 64 * 1024;
constexpr std::size_t kMaxHead = 64 * 1024;
}  // namespace

core::Result<HttpUrl> parseHttpUrl(std::string_view text) {
  auto u = boost::urls::parse_absolute_uri(text);
  if (!u) return core::Error{"", "invalid url"};
  if (u->scheme_id() == boost::urls::scheme::https) {
    return core::Error{"", "https endpoints are not supported (use an http:// collector)"};
  }
  if (u->scheme_id() != boost::urls::scheme::http) {
    return core::Error{"", "unsupported scheme in url: " + std::string(u->scheme())};
  }
  HttpUrl out;
  // The name, or the address of an IP literal (without brackets), percent-decoded.
  out.host = u->host_address();
  if (out.host.empty()) return core::Error{"", "missing host in url"};
  if (u->has_port()) {
    if (u->port_number() == 0) return core::Error{"", "invalid port in url"};
    out.port = u->port_number();
  }
  out.target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) out.target += "?" + std::string(u->encoded_query());
  out.hostHeader = std::string(u->encoded_host_and_port());
  if (out.port == 80 && u->has_port()) out.hostHeader = std::string(u->encoded_host());
  return out;
}

void HttpPoster::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpPoster::waitFor(short events, int timeoutMs, std::string& error) {
  pollfd p{fd_, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeoutMs);
    if (n > 0) return true;
    if (n == 0) {
      error = "timeout";
      return false;
    }
    if (errno != EINTR) {
      error = std::strerror(errno);
      return false;
    }
  }
}

bool HttpPoster::connect(std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(url_.port);
  if (int rc = ::getaddrinfo(url_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = "failed to resolve " + url_.host + ": " + ::gai_strerror(rc);
    return false;
  }
  error = "no address for " + url_.host;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd_ < 0) continue;
    int rc = ::connect(fd_, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      std::string why;
      if (waitFor(POLLOUT, timeouts_.connectMs, why)) {
        int soError = 0;
        socklen_t len = sizeof soError;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soError, &len);
        rc = soError == 0 ? 0 : -1;
        if (soError) why = std::strerror(soError);
      } else {
        rc = -1;
      }
      if (rc != 0) error = "failed to connect to " + url_.hostHeader + ": " + why;
    } else if (rc != 0) {
      error = "failed to connect to " + url_.hostHeader + ": " + std::strerror(errno);
    }
    if (rc == 0) {
      ::freeaddrinfo(res);
      return true;
    }
    close();
  }
  ::freeaddrinfo(res);
  return false;
}

bool HttpPoster::sendAll(std::string_view data, std::string& error) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!waitFor(POLLOUT, timeouts_.sendMs, error)) {
        error = "failed to send request: " + error;
        return false;
      }
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      error = std::string("failed to send request: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool HttpPoster::readResponse(Response& out, bool& anyByte) {
  std::string buf;
  http::Limits limits;
  limits.maxHeaderBytes = kMaxHead;
  http::ResponseHead head;
  head.reserve(limits);
  http::ParseError perr;
  char chunk[16 * 1024];
  std::size_t parsedFrom = 0;  // start of the current head (after skipped 1xx heads)
  auto readMore = [&](std::string& error) -> int {
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        anyByte = true;
        return static_cast<int>(n);
      }
      if (n == 0) return 0;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error = std::strerror(errno);
        return -1;
      }
      if (!waitFor(POLLIN, timeouts_.readMs, error)) return -1;
    }
  };
  // The head (interim 1xx responses skipped).
  for (;;) {
    auto st = http::parseResponseHead(buf.data() + parsedFrom, buf.size() - parsedFrom, limits,
                                      head, perr);
    if (st == http::ParseStatus::error) {
      out.error = "invalid response: " + std::string(perr.message);
      return false;
    }
    if (st == http::ParseStatus::complete) {
      if (head.status >= 100 && head.status < 200) {
        parsedFrom += head.headEnd;
        continue;
      }
      break;
    }
    std::string error;
    int n = readMore(error);
    if (n <= 0) {
      out.error =
          n == 0 ? "connection closed before the response" : "failed to read response: " + error;
      return false;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  out.status = head.status;
  std::string rest = buf.substr(parsedFrom + head.headEnd);
  auto keep = [&](const char* p, std::size_t n) {
    if (out.body.size() < kMaxKeptBody)
      out.body.append(p, std::min(n, kMaxKeptBody - out.body.size()));
  };
  bool reusable = head.keepAlive;
  if (head.noBody) {
    // nothing more
  } else if (head.contentLength >= 0) {
    auto remaining = static_cast<std::uint64_t>(head.contentLength);
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, rest.size()));
    keep(rest.data(), take);
    remaining -= take;
    while (remaining > 0) {
      std::string error;
      int n = readMore(error);
      if (n <= 0) {
        reusable = false;
        break;
      }
      std::size_t got = std::min<std::size_t>(static_cast<std::size_t>(n), remaining);
      keep(chunk, got);
      remaining -= got;
    }
  } else if (head.chunked) {
    http::ChunkedScanner scanner;
    std::size_t used = scanner.feed(rest.data(), rest.size());
    keep(rest.data(), used);
    while (!scanner.done() && !scanner.error()) {
      std::string error;
      int n = readMore(error);
      if (n <= 0) break;
      keep(chunk, scanner.feed(chunk, static_cast<std::size_t>(n)));
    }
    reusable = reusable && scanner.done();
  } else {
    keep(rest.data(), rest.size());
    for (;;) {
      std::string error;
      int n = readMore(error);
      if (n <= 0) break;
      keep(chunk, static_cast<std::size_t>(n));
    }
    reusable = false;
  }
  if (!reusable) close();
  return true;
}

HttpPoster::Response HttpPoster::post(
    std::string_view contentType, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view body) {
  std::string head;
  head.reserve(256);
  head.append("POST ").append(url_.target).append(" HTTP/1.1\r\nHost: ").append(url_.hostHeader);
  head.append("\r\nContent-Type: ").append(contentType);
  head.append("\r\nContent-Length: ").append(std::to_string(body.size()));
  head.append("\r\nUser-Agent: archway\r\n");
  for (const auto& [k, v] : headers) head.append(k).append(": ").append(v).append("\r\n");
  head.append("\r\n");

  Response out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    out = Response{};
    if (!reused && !connect(out.error)) return out;
    bool anyByte = false;
    if (sendAll(head, out.error) && sendAll(body, out.error) && readResponse(out, anyByte)) {
      return out;
    }
    close();
    // A kept-alive connection may have been closed by the server while idle: one retry on a
    // fresh connection, but never after the server started answering.
    if (!reused || anyByte) break;
  }
  out.status = 0;
  return out;
}

}  // namespace archway::plugins::otel
