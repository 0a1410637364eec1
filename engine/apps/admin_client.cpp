#include "apps/admin_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <optional>

namespace archway::apps {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace {

using Request = http::request<http::string_body>;
using TlsStream = ssl::stream<beast::tcp_stream>;

// One connection, plain or TLS.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;

  bool open() const { return plain || tls; }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
  void close() {
    if (open()) lowest().close();
    plain.reset();
    tls.reset();
    buffer.clear();
  }
  template <class F>
  auto visit(F&& f) {
    return plain ? f(*plain) : f(*tls);
  }
};

std::string tlsFailure(TlsStream& stream, const beast::error_code& ec) {
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  return ec.message();
}

}  // namespace

struct AdminClient::Impl {
  std::string host, port, prefix, token;
  bool https = false;
  bool skipVerify = false;
  std::chrono::milliseconds timeout{};
  asio::io_context io;
  std::optional<ssl::context> tlsContext;  // https only
  Connection keepAlive;
  std::atomic<bool> cancelled{false};
  Connection* active = nullptr;  // the connection an operation runs on; the calling thread only

  // Runs one asynchronous operation to its end on the calling thread. Asynchronous, because
  // only asynchronous operations honour tcp_stream's timeout and can be cancelled.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    if (cancelled) return asio::error::operation_aborted;
    return result;
  }

  std::string describe(const beast::error_code& ec) const {
    if (cancelled) return "cancelled";
    if (ec == beast::error::timeout) return "timed out";
    return ec.message();
  }

  std::optional<std::string> connect(Connection& c) {
    c.close();
    if (cancelled) return "cancelled";
    asio::ip::tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return "cannot resolve " + host + ": " + ec.message();
    auto s = std::make_unique<beast::tcp_stream>(io);
    s->expires_after(timeout);
    active = &c;
    c.plain = std::move(s);
    ec = run([&](auto handler) { c.plain->async_connect(endpoints, std::move(handler)); });
    if (ec) {
      c.close();
      return "cannot connect to " + host + ":" + port + ": " + describe(ec);
    }
    if (!https) return std::nullopt;

    c.tls = std::make_unique<TlsStream>(std::move(*c.plain), *tlsContext);
    c.plain.reset();
    // SNI, and the name the certificate must carry (a DNS name or an IP address).
    SSL_set_tlsext_host_name(c.tls->native_handle(), host.c_str());
    if (!skipVerify) c.tls->set_verify_callback(ssl::host_name_verification(host));
    c.lowest().expires_after(timeout);
    ec = run([&](auto handler) {
      c.tls->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) {
      std::string why = cancelled ? "cancelled" : tlsFailure(*c.tls, ec);
      c.close();
      return "TLS handshake with " + host + ":" + port + " failed: " + why;
    }
    return std::nullopt;
  }

  Request makeRequest(const std::string& method, const std::string& path,
                      const std::string& body) const {
    Request req;
    req.method(http::string_to_verb(method));
    req.target(prefix + path);
    req.version(11);
    req.set(http::field::host, host + ":" + port);
    req.set(http::field::user_agent, "archwayd");
    req.set(http::field::accept, "application/json");
    if (!token.empty()) req.set("Kong-Admin-Token", token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  beast::error_code write(Connection& c, const Request& req) {
    active = &c;
    c.lowest().expires_after(timeout);
    return c.visit([&](auto& s) {
      return run([&](auto handler) { http::async_write(s, req, std::move(handler)); });
    });
  }

  // One exchange on the open connection; `sent` tells whether the request went out whole.
  core::Result<HttpReply> exchange(Connection& c, const Request& req, bool& sent) {
    sent = false;
    beast::error_code ec = write(c, req);
    if (ec) return core::Error{"", describe(ec)};
    sent = true;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256ull * 1024 * 1024);  // a whole GET /config of a large node
    c.lowest().expires_after(timeout);
    ec = c.visit([&](auto& s) {
      return run([&](auto handler) { http::async_read(s, c.buffer, parser, std::move(handler)); });
    });
    // Closed before a byte of the answer: a kept-alive connection the server had already let
    // go, which never read the request.
    if (ec == http::error::end_of_stream) sent = false;
    if (ec) return core::Error{"", describe(ec)};
    auto& res = parser.get();
    if (!res.keep_alive()) c.close();
    return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
  }
};

core::Result<std::unique_ptr<AdminClient>> AdminClient::create(const std::string& url,
                                                               std::string token, TlsOptions tls,
                                                               std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return core::Error{"", "expected an http:// or https:// URL, got '" + url + "'"};
  const bool https = parsed->scheme() == "https";
  if (parsed->scheme() != "http" && !https) {
    return core::Error{"", "expected an http:// or https:// URL, got '" + url + "'"};
  }
  std::string host(parsed->encoded_host());
  if (host.empty()) return core::Error{"", "no host in '" + url + "'"};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);

  std::unique_ptr<AdminClient> client(new AdminClient(url));
  Impl& d = *client->impl_;
  d.host = std::move(host);
  d.port = parsed->has_port() ? std::string(parsed->port()) : (https ? "443" : "80");
  d.prefix = std::string(parsed->encoded_path());
  while (!d.prefix.empty() && d.prefix.back() == '/') d.prefix.pop_back();
  d.token = std::move(token);
  d.timeout = timeout;
  d.https = https;
  d.skipVerify = tls.skipVerify;
  if (https) {
    d.tlsContext.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(d.tlsContext->native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    if (tls.skipVerify) {
      d.tlsContext->set_verify_mode(ssl::verify_none);
    } else {
      d.tlsContext->set_verify_mode(ssl::verify_peer);
      if (!tls.caFile.empty()) {
        d.tlsContext->load_verify_file(tls.caFile, ec);
        if (ec) return core::Error{"", "cannot read CA certificates from " + tls.caFile};
      } else {
        d.tlsContext->set_default_verify_paths(ec);
        if (ec) return core::Error{"", "cannot load the system's CA certificates: " + ec.message()};
      }
    }
  }
  return client;
}

AdminClient::AdminClient(std::string url) : url_(std::move(url)), impl_(std::make_unique<Impl>()) {}

AdminClient::~AdminClient() = default;

void AdminClient::cancel() {
  impl_->cancelled = true;
  // Runs on the thread blocked in a call (or at the start of the next one), which owns `active`.
  asio::post(impl_->io, [d = impl_.get()] {
    if (d->active && d->active->open()) d->active->lowest().socket().close();
  });
}

core::Result<HttpReply> AdminClient::request(const std::string& method, const std::string& path,
                                             const std::string& body) {
  Impl& d = *impl_;
  const Request req = d.makeRequest(method, path, body);
  const bool reused = d.keepAlive.open();
  if (!reused) {
    if (auto err = d.connect(d.keepAlive)) return core::Error{"", url_ + path + ": " + *err};
  }
  bool sent = false;
  auto reply = d.exchange(d.keepAlive, req, sent);
  // A kept-alive connection the server closed meanwhile: the request never reached it; retry
  // once on a new connection. A request that was read is not repeated (it may have applied).
  if (!reply && reused && !sent && !d.cancelled) {
    if (auto err = d.connect(d.keepAlive)) return core::Error{"", url_ + path + ": " + *err};
    reply = d.exchange(d.keepAlive, req, sent);
  }
  if (!reply) {
    d.keepAlive.close();
    return core::Error{"", url_ + path + ": " + reply.errors().front().message};
  }
  return reply;
}

core::Result<HttpReply> AdminClient::stream(const std::string& path,
                                            const std::function<bool(std::string_view)>& onData) {
  Impl& d = *impl_;
  Connection c;
  struct Closer {
    Impl& d;
    Connection& c;
    ~Closer() {
      c.close();
      d.active = nullptr;
    }
  } closer{d, c};
  auto fail = [&](const std::string& why) { return core::Error{"", url_ + path + ": " + why}; };
  if (auto err = d.connect(c)) return fail(*err);
  Request req = d.makeRequest("GET", path, {});
  req.set(http::field::accept, "text/event-stream");
  req.keep_alive(false);
  if (auto ec = d.write(c, req)) return fail(d.describe(ec));

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  c.lowest().expires_after(d.timeout);
  auto ec = c.visit([&](auto& s) {
    return d.run(
        [&](auto handler) { http::async_read_header(s, c.buffer, parser, std::move(handler)); });
  });
  if (ec) return fail(d.describe(ec));
  HttpReply reply{static_cast<int>(parser.get().result_int()), {}};
  char chunk[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    c.lowest().expires_after(d.timeout);
    ec = c.visit([&](auto& s) {
      return d.run(
          [&](auto handler) { http::async_read(s, c.buffer, parser, std::move(handler)); });
    });
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return fail(d.describe(ec));
    const std::string_view data(chunk, sizeof chunk - parser.get().body().size);
    if (reply.status != 200) {
      reply.body.append(data);
    } else if (!data.empty() && !onData(data)) {
      break;
    }
  }
  return reply;
}

}  // namespace archway::apps
