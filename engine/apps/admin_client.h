#pragma once
// A small blocking HTTP/1.1 client for the Admin API, for command-line tools (archwayd config
// diff|sync): http:// URLs, one keep-alive connection, `Kong-Admin-Token` when a token is given.
// Not for the proxy or any engine thread: every call blocks until the answer or the timeout.
#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"

namespace archway::apps {

struct HttpReply {
  int status = 0;
  std::string body;
};

class AdminClient {
 public:
  // `url`: http://HOST[:PORT][/PREFIX] (port 80 when omitted). An error names what is wrong.
  static core::Result<std::unique_ptr<AdminClient>> create(
      const std::string& url, std::string token,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Sends one request (`body` as application/json when not empty). An error means no answer
  // (connection refused, timeout, closed); any HTTP status is a reply.
  core::Result<HttpReply> request(const std::string& method, const std::string& path,
                                  const std::string& body = {});

  const std::string& url() const { return url_; }

 private:
  struct Impl;
  AdminClient(std::string url, std::string host, std::string port, std::string prefix,
              std::string token, std::chrono::milliseconds timeout);

  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace archway::apps
