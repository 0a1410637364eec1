#pragma once
// A small blocking HTTP/1.1 client for the exporter's sender thread (never a worker): POSTs a
// body to one http:// endpoint over a kept-alive connection, with Kong's three timeouts
// (connect, and send / read per socket operation, as lua-resty-http's set_timeouts).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace archway::plugins::otel {

struct HttpUrl {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 80;
  std::string target = "/";  // path and query
  std::string hostHeader;    // host[:port], the port only when not 80
};

// An http:// URL. https:// is refused with a message saying so (no TLS client here yet).
core::Result<HttpUrl> parseHttpUrl(std::string_view url);

class HttpPoster {
 public:
  struct Timeouts {
    int connectMs = 1000;
    int sendMs = 5000;
    int readMs = 5000;
  };
  struct Response {
    int status = 0;     // 0: no response (error says why)
    std::string body;   // the first 64 KiB
    std::string error;  // set when status == 0
  };

  HttpPoster(HttpUrl url, Timeouts timeouts) : url_(std::move(url)), timeouts_(timeouts) {}
  ~HttpPoster() { close(); }
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // Sends one request and waits for the whole response. A kept-alive connection the server
  // closed meanwhile is replaced once, transparently.
  Response post(std::string_view contentType,
                const std::vector<std::pair<std::string, std::string>>& headers,
                std::string_view body);
  void close();

 private:
  bool connect(std::string& error);
  bool sendAll(std::string_view data, std::string& error);
  // false: the connection failed before any response byte (`fresh` tells whether to retry).
  bool readResponse(Response& out, bool& anyByte);
  bool waitFor(short events, int timeoutMs, std::string& error);

  HttpUrl url_;
  Timeouts timeouts_;
  int fd_ = -1;
};

}  // namespace archway::plugins::otel
