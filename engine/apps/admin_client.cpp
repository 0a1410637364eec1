#include "apps/admin_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace archway::apps {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct AdminClient::Impl {
  std::string host, port, prefix, token;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  std::unique_ptr<beast::tcp_stream> stream;  // null: not connected
  beast::flat_buffer buffer;

  std::optional<std::string> connect() {
    stream.reset();
    buffer.clear();
    asio::ip::tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return "cannot resolve " + host + ": " + ec.message();
    auto s = std::make_unique<beast::tcp_stream>(io);
    s->expires_after(timeout);
    s->connect(endpoints, ec);
    if (ec) return "cannot connect to " + host + ":" + port + ": " + ec.message();
    stream = std::move(s);
    return std::nullopt;
  }

  // One exchange on the open connection; `sent` tells whether the request went out whole.
  core::Result<HttpReply> exchange(const http::request<http::string_body>& req, bool& sent) {
    beast::error_code ec;
    sent = false;
    stream->expires_after(timeout);
    http::write(*stream, req, ec);
    if (ec) return core::Error{"", ec.message()};
    sent = true;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256ull * 1024 * 1024);  // a whole GET /config of a large node
    http::read(*stream, buffer, parser, ec);
    // Closed before a byte of the answer: a kept-alive connection the server had already let
    // go, which never read the request.
    if (ec == http::error::end_of_stream) sent = false;
    if (ec) return core::Error{"", ec == beast::error::timeout ? "timed out" : ec.message()};
    auto& res = parser.get();
    if (!res.keep_alive()) stream.reset();
    return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
  }
};

core::Result<std::unique_ptr<AdminClient>> AdminClient::create(const std::string& url,
                                                               std::string token,
                                                               std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return core::Error{"", "expected an http:// URL, got '" + url + "'"};
  if (parsed->scheme() != "http") {
    return core::Error{"", "only http:// Admin API URLs are supported, got '" + url + "'"};
  }
  std::string host(parsed->encoded_host());
  if (host.empty()) return core::Error{"", "no host in '" + url + "'"};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string prefix(parsed->encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return std::unique_ptr<AdminClient>(new AdminClient(url, std::move(host), std::move(port),
                                                      std::move(prefix), std::move(token),
                                                      timeout));
}

AdminClient::AdminClient(std::string url, std::string host, std::string port, std::string prefix,
                         std::string token, std::chrono::milliseconds timeout)
    : url_(std::move(url)), impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = std::move(port);
  impl_->prefix = std::move(prefix);
  impl_->token = std::move(token);
  impl_->timeout = timeout;
}

AdminClient::~AdminClient() = default;

core::Result<HttpReply> AdminClient::request(const std::string& method, const std::string& path,
                                             const std::string& body) {
  Impl& d = *impl_;
  http::request<http::string_body> req;
  req.method(http::string_to_verb(method));
  req.target(d.prefix + path);
  req.version(11);
  req.set(http::field::host, d.host + ":" + d.port);
  req.set(http::field::user_agent, "archwayd");
  req.set(http::field::accept, "application/json");
  if (!d.token.empty()) req.set("Kong-Admin-Token", d.token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.keep_alive(true);
  req.prepare_payload();

  const bool reused = d.stream != nullptr;
  if (!reused) {
    if (auto err = d.connect()) return core::Error{"", *err};
  }
  bool sent = false;
  auto reply = d.exchange(req, sent);
  // A kept-alive connection the server closed meanwhile: the request never reached it; retry
  // once on a new connection. A request that was read is not repeated (it may have applied).
  if (!reply && reused && !sent) {
    if (auto err = d.connect()) return core::Error{"", *err};
    reply = d.exchange(req, sent);
  }
  if (!reply) {
    d.stream.reset();
    return core::Error{"", url_ + path + ": " + reply.errors().front().message};
  }
  return reply;
}

}  // namespace archway::apps
