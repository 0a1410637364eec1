#pragma once
// A small blocking HTTP/1.1 client for the Admin API, for command-line tools (archwayd config
// diff|sync) and the console's worker threads: http:// and https:// URLs, one keep-alive
// connection, `Kong-Admin-Token` when a token is given, and a streaming GET for server-sent
// events. Not for the proxy or any engine thread: every call blocks until the answer, the
// timeout or cancel().
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace archway::apps {

struct HttpReply {
  int status = 0;
  std::string body;
};

// How an https:// Admin API's certificate is checked (decK's --ca-cert and --tls-skip-verify).
// By default against the system's trust store, and the certificate must name the URL's host.
struct TlsOptions {
  std::string caFile;       // PEM file of the CAs to trust instead of the system store
  bool skipVerify = false;  // accept any certificate (testing only: no protection at all)
};

class AdminClient {
 public:
  // `url`: http[s]://HOST[:PORT][/PREFIX] (port 80 / 443 when omitted). An error names what is
  // wrong (also an unreadable `tls.caFile`); nothing is connected yet.
  static core::Result<std::unique_ptr<AdminClient>> create(
      const std::string& url, std::string token, TlsOptions tls = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Sends one request (`body` as application/json when not empty). An error means no answer
  // (connection refused, TLS handshake or certificate refused, timeout, closed, cancelled); any
  // HTTP status is a reply. `timeout` bounds each step (connect, handshake, write, read).
  core::Result<HttpReply> request(const std::string& method, const std::string& path,
                                  const std::string& body = {});

  // GET `path` on a connection of its own and hand the body to `onData` as it arrives (a
  // server-sent event stream), until the server ends it, `onData` returns false or cancel() is
  // called. A status other than 200 is returned with its whole body and `onData` is not called.
  // The timeout applies to the wait for each piece of the body.
  core::Result<HttpReply> stream(const std::string& path,
                                 const std::function<bool(std::string_view)>& onData);

  // Any thread, while the client exists: the call in progress (and every later one) ends soon
  // with the error "cancelled".
  void cancel();

  const std::string& url() const { return url_; }

 private:
  struct Impl;
  explicit AdminClient(std::string url);

  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace archway::apps
