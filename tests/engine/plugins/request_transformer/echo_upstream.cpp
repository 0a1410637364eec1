#include "echo_upstream.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace plugintest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

EchoUpstream::EchoUpstream()
    : acceptor_(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptThread_ = std::thread([this] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(ctx_);
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      std::lock_guard lock(mutex_);
      threads_.emplace_back([this, sock = std::move(s)]() mutable { serve(std::move(sock)); });
    }
  });
}

EchoUpstream::~EchoUpstream() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  {
    asio::io_context c;
    tcp::socket s(c);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  acceptThread_.join();
  {
    std::lock_guard lock(mutex_);
    for (auto* s : open_) s->shutdown(tcp::socket::shutdown_both, ec);
  }
  for (auto& t : threads_) t.join();
}

void EchoUpstream::setResponse(const std::string& prefix, Canned canned) {
  std::lock_guard lock(mutex_);
  canned_.emplace_back(prefix, std::move(canned));
}

void EchoUpstream::serve(tcp::socket socket) {
  {
    std::lock_guard lock(mutex_);
    open_.push_back(&socket);
  }
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    boost::system::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    auto req = parser.release();
    ++requests_;
    std::string target(req.target());
    http::response<http::string_body> res{http::status::ok, 11};
    bool answered = false;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [prefix, c] : canned_) {
        if (target.rfind(prefix, 0) != 0) continue;
        res.result(static_cast<unsigned>(c.status));
        for (const auto& [k, v] : c.headers) res.insert(k, v);
        res.body() = c.body;
        answered = true;
        break;
      }
    }
    if (!answered) {
      json::object headers;
      for (const auto& f : req) {
        std::string name = lower(f.name_string());
        auto it = headers.find(name);
        if (it == headers.end()) {
          headers[name] = std::string(f.value());
        } else if (it->value().is_array()) {
          it->value().as_array().push_back(json::string(f.value()));
        } else {
          json::array a{it->value(), json::string(f.value())};
          it->value() = std::move(a);
        }
      }
      json::object echo{{"method", std::string(req.method_string())},
                        {"target", target},
                        {"headers", std::move(headers)},
                        {"body", req.body()}};
      res.set(http::field::content_type, "application/json");
      res.body() = json::serialize(echo);
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive() || stopping_) break;
  }
  std::lock_guard lock(mutex_);
  std::erase(open_, &socket);
}

Response request(unsigned short port, const std::string& method, const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& body) {
  asio::io_context ctx;
  tcp::socket socket(ctx);
  Response out;
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return out;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req.insert(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return out;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  http::read(socket, buffer, parser, ec);
  if (ec) return out;
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) {
    std::string name = lower(f.name_string());
    auto& slot = out.headers[name];
    if (!slot.empty()) slot += ", ";
    slot += std::string(f.value());
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

}  // namespace plugintest
