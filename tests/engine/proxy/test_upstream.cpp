#include "test_upstream.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

ConnectionThreads::ConnectionThreads(std::function<void(tcp::socket)> serve)
    : acceptor_(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptThread_ = std::thread([this, serve = std::move(serve)] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(ctx_);
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      ++accepted_;
      std::lock_guard lock(mutex_);
      threads_.emplace_back([serve, sock = std::move(s)]() mutable { serve(std::move(sock)); });
    }
  });
}

void ConnectionThreads::stop() {
  if (stopping_.exchange(true)) return;
  boost::system::error_code ec;
  acceptor_.close(ec);
  // Unblock accept() with a throwaway connection if it is still waiting.
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

void ConnectionThreads::track(tcp::socket* s) {
  std::lock_guard lock(mutex_);
  if (stopping_) {  // stop() has shut the others down already
    boost::system::error_code ec;
    s->shutdown(tcp::socket::shutdown_both, ec);
  }
  open_.push_back(s);
}

void ConnectionThreads::untrack(tcp::socket* s) {
  std::lock_guard lock(mutex_);
  std::erase(open_, s);
}

TestUpstream::TestUpstream(bool closeAfterEachResponse)
    : closeAfterEachResponse_(closeAfterEachResponse),
      threads_([this](tcp::socket s) { serve(std::move(s)); }) {}

TestUpstream::Seen TestUpstream::last() {
  std::lock_guard lock(mutex_);
  return last_;
}

void TestUpstream::serve(tcp::socket socket) {
  threads_.track(&socket);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    boost::system::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    auto req = parser.release();
    ++requests_;
    {
      std::lock_guard lock(mutex_);
      last_.method = std::string(req.method_string());
      last_.target = std::string(req.target());
      last_.headers.clear();
      last_.bodySize = req.body().size();
      for (const auto& f : req) last_.headers[lower(f.name_string())] = std::string(f.value());
    }
    std::string target(req.target());
    if (auto p = target.find("/sleep/"); p != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(target.substr(p + 7))));
    }
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = "ok";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive() || threads_.stopping() || closeAfterEachResponse_) break;
  }
  threads_.untrack(&socket);
}

TestClient::TestClient(unsigned short port) : socket_(ctx_) {
  socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

bool TestClient::open() const {
  return socket_.is_open();
}

TestClient::Response TestClient::get(const std::string& target,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& method) {
  return send(method, target, {}, headers);
}

TestClient::Response TestClient::send(const std::string& method, const std::string& target,
                                      const std::string& body,
                                      const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  boost::system::error_code ec;
  http::write(socket_, req, ec);
  Response out;
  if (ec) return out;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  http::read(socket_, buffer, parser, ec);
  if (ec) return out;
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) out.headers[lower(f.name_string())] = std::string(f.value());
  return out;
}
